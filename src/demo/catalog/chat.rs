//! Q13: a chat server on a loopback TCP listener (a line protocol), its rooms on tokio's
//! broadcast channel. Real TCP clients: a talker, fast readers, one slow reader, one that leaves
//! mid-stream and one that joins late and gets the room's recent history first.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, watch};

use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct Chat;

static SPEC: DemoSpec = DemoSpec {
    id: "chat",
    title: "Chat rooms over a broadcast channel, with a slow client",
    about: "A talker sends `messages` lines to a room. Every connection's task forwards the room's \
            broadcast to its socket; the slow client's socket fills, its task falls behind by more \
            than `room_capacity` and loses the oldest messages, counted and told to it. The other \
            clients get every message; one leaves mid-stream, one joins late and first gets the \
            last `history` messages.",
    variants: &[VariantSpec::real(
        "broadcast",
        "tokio::sync::broadcast per room; a lagging receiver skips ahead (Lagged(n))",
    )],
    default_variants: &["broadcast"],
    params: &[
        ParamSpec {
            name: "fast_clients",
            kind: ParamKind::Int { min: 1, max: 8 },
            default: "2",
            help: "clients that read every line as soon as it comes",
        },
        ParamSpec {
            name: "messages",
            kind: ParamKind::Int { min: 1, max: 300 },
            default: "60",
            help: "messages the talker sends, numbered from 1",
        },
        ParamSpec {
            name: "message_bytes",
            kind: ParamKind::Int { min: 16, max: 4096 },
            default: "512",
            help: "size of each message line",
        },
        ParamSpec {
            name: "send_every_ms",
            kind: ParamKind::Ms { min: 0, max: 50 },
            default: "5",
            help: "the talker's pause between messages (0: one burst, which can outrun \
                   even the fast clients' tasks)",
        },
        ParamSpec {
            name: "room_capacity",
            kind: ParamKind::Int { min: 1, max: 256 },
            default: "8",
            help: "broadcast channel capacity: how many messages a connection may fall behind \
                   before it loses the oldest",
        },
        ParamSpec {
            name: "slow_read_ms",
            kind: ParamKind::Ms { min: 0, max: 50 },
            default: "20",
            help: "the slow client's pause before each read from its socket",
        },
        ParamSpec {
            name: "history",
            kind: ParamKind::Int { min: 0, max: 50 },
            default: "5",
            help: "how many recent messages a joining client is sent first",
        },
        ParamSpec {
            name: "late_join_after",
            kind: ParamKind::Int { min: 0, max: 300 },
            default: "30",
            help: "the late client joins once the talker has sent this many messages \
                   (`messages` or more: after the room has ended, it still gets the history)",
        },
        ParamSpec {
            name: "leave_after",
            kind: ParamKind::Int { min: 1, max: 300 },
            default: "20",
            help: "the leaving client disconnects after receiving this many messages",
        },
    ],
    metrics: &[
        (
            "received",
            "messages each client received live (history not included)",
        ),
        (
            "lost",
            "messages each connection's task skipped because it lagged (broadcast Lagged(n))",
        ),
        (
            "lost_told",
            "losses each client was told about (LOST n lines it read)",
        ),
        (
            "history_sent",
            "history lines the late client got on joining",
        ),
        (
            "history_seqs",
            "which messages those were: the last `history` before it joined",
        ),
    ],
    source: include_str!("chat.rs"),
    source_file: file!(),
};

#[derive(Debug, Clone)]
struct Config {
    fast: usize,
    messages: usize,
    bytes: usize,
    every: Duration,
    capacity: usize,
    slow_read: Duration,
    history: usize,
    late_after: usize,
    leave_after: usize,
}

impl LegacyDemo for Chat {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config {
            fast: params.count("fast_clients"),
            messages: params.count("messages"),
            bytes: params.count("message_bytes"),
            every: params.ms("send_every_ms"),
            capacity: params.count("room_capacity").max(1),
            slow_read: params.ms("slow_read_ms"),
            history: params.count("history"),
            late_after: params.count("late_join_after"),
            leave_after: params.count("leave_after").max(1),
        };
        async move {
            let listener = match listen() {
                Ok(l) => l,
                Err(e) => {
                    return ctx
                        .setup_failed("server", SetupError::new("cannot listen on 127.0.0.1", e))
                        .await;
                }
            };
            let addr = match listener.local_addr() {
                Ok(a) => a,
                Err(e) => {
                    return ctx
                        .setup_failed("server", SetupError::new("no address", e))
                        .await;
                }
            };
            ctx.metric("port", addr.port());
            let stop = CancellationToken::new();
            let server = Server {
                ctx: ctx.clone(),
                rooms: Rooms::default(),
                capacity: cfg.capacity,
                history: cfg.history,
                lost: Tally::new(&ctx, "lost"),
            };
            let serving = ctx.spawn("server", server.serve(listener, stop.clone()));
            run_clients(&ctx, &cfg, addr).await;
            stop.cancel();
            let _ = serving.await;
        }
        .boxed()
    }
}

/// Small kernel buffers on the server's sockets (accepted sockets inherit them), so a client
/// that reads slowly fills them after a few messages rather than a few megabytes.
fn listen() -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_send_buffer_size(4096)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(64)
}

/// Counts per client, published as one metric (a JSON object) on every change.
#[derive(Clone)]
struct Tally {
    ctx: Ctx,
    name: &'static str,
    counts: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
}

impl Tally {
    fn new(ctx: &Ctx, name: &'static str) -> Tally {
        ctx.metric(name, serde_json::json!({}));
        Tally {
            ctx: ctx.clone(),
            name,
            counts: Arc::default(),
        }
    }

    fn add(&self, who: &str, n: u64) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        *counts.entry(who.to_owned()).or_default() += n;
        self.ctx.metric(self.name, serde_json::json!(*counts));
        if self.name == "lost" {
            self.ctx
                .series("lost", counts.values().sum::<u64>() as usize);
        }
    }
}

/// What a client does with the room's stream.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Fast,
    Slow(Duration),
    /// Leaves after this many messages.
    Leaver(usize),
    /// Joins once the talker has sent this many.
    Late(usize),
}

/// Line reader for a client; the slow one reads through a small buffer, so each read takes
/// little from its socket.
type ClientLines = tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>;

/// Connect, join the lobby and read up to `JOINED`: returns the history received.
async fn join(
    addr: SocketAddr,
    name: &str,
    role: Role,
) -> Result<(ClientLines, tokio::net::tcp::OwnedWriteHalf, Vec<u64>), String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if let Role::Slow(_) = role {
        // A small receive window: the server's writes stall after a few messages.
        socket
            .set_recv_buffer_size(2048)
            .map_err(|e| format!("socket: {e}"))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (r, mut w) = stream.into_split();
    let capacity = if let Role::Slow(_) = role { 256 } else { 8192 };
    let mut lines = BufReader::with_capacity(capacity, r).lines();
    w.write_all(format!("JOIN lobby {name}\n").as_bytes())
        .await
        .map_err(|e| format!("cannot send: {e}"))?;
    let mut history = Vec::new();
    loop {
        match next(&mut lines).await? {
            Some(l) if l.starts_with("JOINED") => return Ok((lines, w, history)),
            Some(l) => history.extend(l.strip_prefix("HIST ").and_then(seq)),
            None => return Err("the server closed the connection while joining".into()),
        }
    }
}

/// The next line, or an error after 10 s of silence (the run stays bounded).
async fn next(lines: &mut ClientLines) -> Result<Option<String>, String> {
    match tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await {
        Ok(Ok(line)) => Ok(line),
        Ok(Err(e)) => Err(format!("read failed: {e}")),
        Err(_) => Err("no line for 10 s".into()),
    }
}

/// The sequence number of `MSG <from> <seq> <text>`.
fn seq(msg: &str) -> Option<u64> {
    let mut parts = msg.split(' ');
    (parts.next() == Some("MSG")).then_some(())?;
    parts.nth(1)?.parse().ok()
}

/// What the clients found, for the metrics and the tests.
struct Report {
    received: Tally,
    told: Tally,
}

/// A client that reads the room until `END` (or leaves early), checking what it gets.
async fn reader(
    ctx: Ctx,
    addr: SocketAddr,
    name: String,
    role: Role,
    joined: Arc<Semaphore>,
    sent: watch::Receiver<usize>,
    report: Arc<Report>,
) -> Ended {
    if let Role::Late(after) = role {
        let mut sent = sent;
        if sent.wait_for(|&n| n >= after).await.is_err() {
            return Ended::error("the talker is gone");
        }
    }
    let (mut lines, w, history) = match join(addr, &name, role).await {
        Ok(j) => j,
        Err(e) => return Ended::error(e),
    };
    joined.add_permits(1);
    if let Role::Late(_) = role {
        ctx.metric("history_sent", history.len());
        ctx.metric("history_seqs", history.clone());
    }
    if !history.is_empty() {
        ctx.mark(format!("{name} got {} history lines", history.len()));
    }
    let mut got: Vec<u64> = Vec::new();
    let mut told = 0;
    loop {
        if let Role::Slow(pause) = role {
            tokio::time::sleep(pause).await;
        }
        let line = match next(&mut lines).await {
            Ok(Some(line)) => line,
            Ok(None) => return Ended::error("the server closed the connection"),
            Err(e) => return Ended::error(e),
        };
        if line == "END" {
            break;
        }
        if let Some(n) = line
            .strip_prefix("LOST ")
            .and_then(|n| n.parse::<u64>().ok())
        {
            told += n;
            report.told.add(&name, n);
            continue;
        }
        let Some(s) = seq(&line) else { continue };
        got.push(s);
        report.received.add(&name, 1);
        if role == Role::Leaver(got.len()) {
            ctx.mark(format!("{name} leaves"));
            drop((lines, w));
            return Ended::ok(format!("left after {} messages", got.len()));
        }
    }
    drop(w);
    // In order, no duplicates; after the history, the live stream picks up where it ended.
    let in_order = got.windows(2).all(|p| p[0] < p[1]);
    let seamless = history
        .last()
        .zip(got.first())
        .is_none_or(|(h, g)| g == &(h + 1));
    if !in_order || !seamless {
        return Ended::error(format!("out of order: history {history:?}, then {got:?}"));
    }
    if told > 0 {
        Ended::ok(format!("{} received, {told} lost", got.len()))
    } else {
        Ended::ok(format!("{} received", got.len()))
    }
}

/// The talker: join, wait until the first readers have joined, send the messages, say BYE.
async fn talker(
    addr: SocketAddr,
    cfg: Config,
    joined: Arc<Semaphore>,
    readers: u32,
    sent: watch::Sender<usize>,
) -> Ended {
    let (mut lines, mut w, _) = match join(addr, "talker", Role::Fast).await {
        Ok(j) => j,
        Err(e) => return Ended::error(e),
    };
    let wait = tokio::time::timeout(Duration::from_secs(5), joined.acquire_many(readers));
    if !matches!(wait.await, Ok(Ok(_))) {
        return Ended::error("the readers did not join");
    }
    for n in 1..=cfg.messages {
        let head = format!("SAY {n} ");
        let pad = "x".repeat(cfg.bytes.saturating_sub(head.len() + 12).max(1));
        if let Err(e) = w.write_all(format!("{head}{pad}\n").as_bytes()).await {
            return Ended::error(format!("cannot send: {e}"));
        }
        sent.send_replace(n);
        tokio::time::sleep(cfg.every).await;
    }
    if let Err(e) = w.write_all(b"BYE\n").await {
        return Ended::error(format!("cannot send: {e}"));
    }
    // The server hangs up once it has ended the room.
    while let Ok(Some(_)) = next(&mut lines).await {}
    sent.send_replace(cfg.messages + 1);
    Ended::ok(format!("{} messages sent", cfg.messages))
}

async fn run_clients(ctx: &Ctx, cfg: &Config, addr: SocketAddr) {
    let joined = Arc::new(Semaphore::new(0));
    let (sent_tx, sent_rx) = watch::channel(0);
    let report = Arc::new(Report {
        received: Tally::new(ctx, "received"),
        told: Tally::new(ctx, "lost_told"),
    });
    let mut readers: Vec<(String, Role)> = (1..=cfg.fast)
        .map(|i| (format!("fast {i}"), Role::Fast))
        .collect();
    readers.push(("slow".into(), Role::Slow(cfg.slow_read)));
    readers.push(("leaver".into(), Role::Leaver(cfg.leave_after)));
    let first = readers.len() as u32;
    // `messages` or more: after the talker's goodbye.
    let late_after = if cfg.late_after >= cfg.messages {
        cfg.messages + 1
    } else {
        cfg.late_after
    };
    readers.push(("late".into(), Role::Late(late_after)));
    let mut set = JoinSet::new();
    let talk = talker(addr, cfg.clone(), Arc::clone(&joined), first, sent_tx);
    ctx.spawn_in(&mut set, "talker", talk);
    for (name, role) in readers {
        let r = reader(
            ctx.clone(),
            addr,
            name.clone(),
            role,
            Arc::clone(&joined),
            sent_rx.clone(),
            Arc::clone(&report),
        );
        ctx.spawn_in(&mut set, name, r);
    }
    while set.join_next().await.is_some() {}
}

// region:demo
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// One message as every connection sends it: `MSG <from> <seq> <text>`.
struct Msg {
    from: String,
    line: String,
}

struct Room {
    tx: broadcast::Sender<Arc<Msg>>,
    recent: VecDeque<Arc<Msg>>,
    members: usize,
    ended: bool,
}

/// A new member's view of the room: its own receiver, the recent messages, whether it ended.
struct Joined {
    rx: broadcast::Receiver<Arc<Msg>>,
    recent: Vec<Arc<Msg>>,
    ended: bool,
}

#[derive(Clone, Default)]
struct Rooms(Arc<Mutex<HashMap<String, Room>>>);

#[derive(Clone)]
struct Server {
    ctx: Ctx,
    rooms: Rooms,
    capacity: usize,
    history: usize,
    lost: Tally,
}

impl Server {
    async fn serve(self, listener: TcpListener, stop: CancellationToken) -> Ended {
        let mut conns = JoinSet::new();
        let mut accepted = 0;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                Some(_) = conns.join_next() => {}
                conn = listener.accept() => match conn {
                    Ok((stream, _)) => {
                        accepted += 1;
                        let conn = self.clone().connection(stream);
                        self.ctx.spawn_in(&mut conns, format!("conn {accepted}"), conn);
                    }
                    Err(e) => return Ended::error(format!("accept failed: {e}")),
                },
            }
        }
        drop(listener); // the port closes
        conns.shutdown().await;
        Ended::ok("stopped")
    }

    /// Subscribe and copy the recent messages under one lock: nothing is missed or doubled
    /// between the history and the live stream.
    fn join(&self, room: &str) -> Option<Joined> {
        let mut rooms = self.rooms.0.lock().ok()?;
        let room = rooms.entry(room.to_owned()).or_insert_with(|| Room {
            tx: broadcast::channel(self.capacity).0,
            recent: VecDeque::new(),
            members: 0,
            ended: false,
        });
        room.members += 1;
        self.ctx.series("members", room.members);
        Some(Joined {
            rx: room.tx.subscribe(),
            recent: room.recent.iter().cloned().collect(),
            ended: room.ended,
        })
    }

    /// Send to every member and keep it for those who join later. Never waits: a receiver
    /// already `capacity` behind loses its oldest message instead.
    fn publish(&self, room: &str, from: &str, text: &str) {
        self.with_room(room, |room| {
            let msg = Arc::new(Msg {
                from: from.to_owned(),
                line: format!("MSG {from} {text}\n"),
            });
            if self.history > 0 {
                if room.recent.len() == self.history {
                    room.recent.pop_front();
                }
                room.recent.push_back(Arc::clone(&msg));
            }
            let _ = room.tx.send(msg);
        });
    }

    /// The talker said BYE: `END` to the members now, and to whoever joins later.
    fn end(&self, room: &str, from: &str) {
        self.with_room(room, |room| {
            room.ended = true;
            let end = Msg {
                from: from.to_owned(),
                line: "END\n".into(),
            };
            let _ = room.tx.send(Arc::new(end));
        });
    }

    fn with_room(&self, room: &str, f: impl FnOnce(&mut Room)) {
        if let Ok(mut rooms) = self.rooms.0.lock()
            && let Some(room) = rooms.get_mut(room)
        {
            f(room);
        }
    }

    fn leave(&self, room: &str) {
        self.with_room(room, |room| {
            room.members -= 1;
            self.ctx.series("members", room.members);
        });
    }

    /// One client: `JOIN <room> <name>`, then its lines in and the room's messages out.
    async fn connection(self, stream: TcpStream) -> Ended {
        let _ = stream.set_nodelay(true);
        let (r, mut w) = stream.into_split();
        let mut lines = BufReader::new(r).lines();
        let Ok(Some(hello)) = lines.next_line().await else {
            return Ended::error("no JOIN line");
        };
        let Some(("JOIN", rest)) = hello.split_once(' ') else {
            return Ended::error(format!("expected JOIN, got `{hello}`"));
        };
        let Some((room, name)) = rest.split_once(' ') else {
            return Ended::error("JOIN <room> <name>");
        };
        let (room, name) = (room.to_owned(), name.to_owned());
        let Some(Joined {
            mut rx,
            recent,
            ended,
        }) = self.join(&room)
        else {
            return Ended::error("the room registry is poisoned");
        };
        let mut hello = String::new();
        for m in &recent {
            hello.push_str(&format!("HIST {}", m.line));
        }
        hello.push_str(if ended { "JOINED\nEND\n" } else { "JOINED\n" });
        let (mut lost, mut sent) = (0, 0);
        let mut result = w.write_all(hello.as_bytes()).await;
        while result.is_ok() {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => match line.split_once(' ') {
                        Some(("SAY", text)) => self.publish(&room, &name, text),
                        _ if line == "BYE" => {
                            self.end(&room, &name);
                            break;
                        }
                        _ => {}
                    },
                    Ok(None) | Err(_) => break, // the client left
                },
                msg = rx.recv() => match msg {
                    Ok(m) if m.from == name => {}
                    Ok(m) => {
                        // Waits while the client's socket is full; meanwhile the room moves on.
                        result = w.write_all(m.line.as_bytes()).await;
                        sent += 1;
                    }
                    Err(RecvError::Lagged(n)) => {
                        lost += n;
                        self.lost.add(&name, n);
                        self.ctx.mark(format!("{name} lagged: lost {n}"));
                        result = w.write_all(format!("LOST {n}\n").as_bytes()).await;
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
        self.leave(&room);
        self.ctx.mark(format!("{name} left"));
        Ended::ok(format!("{name}: {sent} sent, {lost} lost"))
    }
}
// endregion:demo

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::demo::runner::{self, DemoRun, RunRequest, VariantRun};
    use crate::demo::timeline::TimelineSnapshot;
    use crate::demo::{Clock, Outcome};

    fn request(sets: &[&str]) -> RunRequest {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        RunRequest::build("chat", &[], &sets, Clock::Real).unwrap()
    }

    fn run(sets: &[&str]) -> VariantRun {
        let report = runner::run_blocking(request(sets)).unwrap();
        let r = report.runs[0].clone();
        assert_eq!(r.alive_after, 0, "no task left behind");
        assert_eq!(r.error, None);
        port_closed(&r);
        for t in &r.timeline.tasks {
            assert_eq!(t.outcome, Outcome::Ok, "{}: {}", t.name, t.detail);
        }
        r
    }

    fn port_closed(r: &VariantRun) {
        let port = r.timeline.metrics["port"].as_u64().unwrap() as u16;
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
    }

    /// A per-client count from a metric object; 0 when the client is not in it.
    fn count(tl: &TimelineSnapshot, metric: &str, who: &str) -> u64 {
        tl.metrics[metric]
            .get(who)
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    }

    fn mark_time(tl: &TimelineSnapshot, label: &str) -> f64 {
        let found: Vec<f64> = tl
            .marks
            .iter()
            .filter(|m| m.label == label)
            .map(|m| m.t_ms)
            .collect();
        assert_eq!(found.len(), 1, "one `{label}` mark");
        found[0]
    }

    #[test]
    fn the_slow_client_loses_and_is_told_the_others_get_everything() {
        let r = run(&[]);
        let tl = &r.timeline;
        // Fast clients: all 60, in order (each checks the order itself), nothing lost.
        for who in ["fast 1", "fast 2"] {
            assert_eq!(count(tl, "received", who), 60, "{who}");
            assert_eq!(count(tl, "lost", who), 0, "{who}");
            assert_eq!(count(tl, "lost_told", who), 0, "{who}");
        }
        // The slow client lost some; the server counted them and told it, exactly.
        let lost = count(tl, "lost", "slow");
        assert!(lost > 0, "the slow client lost nothing");
        assert_eq!(count(tl, "lost_told", "slow"), lost);
        assert_eq!(count(tl, "received", "slow") + lost, 60);
        let marked: u64 = tl
            .marks
            .iter()
            .filter_map(|m| m.label.strip_prefix("slow lagged: lost "))
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        assert_eq!(marked, lost);
        // The leaver left mid-stream, the server noticed, and the room went on without it.
        assert_eq!(count(tl, "received", "leaver"), 20);
        let leaves = mark_time(tl, "leaver leaves");
        let left = mark_time(tl, "leaver left");
        assert!(leaves <= left);
        assert!(left < mark_time(tl, "talker left"), "mid-stream");
        // The late client got the last 5 messages first, then the rest live, seamlessly.
        let seqs: Vec<u64> = serde_json::from_value(tl.metrics["history_seqs"].clone()).unwrap();
        assert_eq!(seqs.len(), 5);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        // Joined once the talker had sent 30 (the server may not have read the very last yet).
        assert!(seqs[4] >= 25, "{seqs:?}");
        assert_eq!(count(tl, "received", "late"), 60 - seqs[4]);
    }

    #[test]
    fn with_room_to_fall_behind_the_slow_client_loses_nothing() {
        let r = run(&[
            "messages=30",
            "room_capacity=256",
            "slow_read_ms=2",
            "history=0",
        ]);
        let tl = &r.timeline;
        assert_eq!(count(tl, "received", "slow"), 30);
        assert_eq!(count(tl, "lost", "slow"), 0);
        assert_eq!(tl.metrics["history_seqs"], serde_json::json!([]));
    }

    #[test]
    fn a_client_joining_after_the_end_gets_the_history_and_the_end() {
        let r = run(&[
            "messages=12",
            "late_join_after=12",
            "history=4",
            "leave_after=3",
            "slow_read_ms=0",
        ]);
        let tl = &r.timeline;
        assert_eq!(
            tl.metrics["history_seqs"],
            serde_json::json!([9, 10, 11, 12])
        );
        assert_eq!(count(tl, "received", "late"), 0);
        let late = tl.task("late").unwrap();
        assert_eq!(late.detail, "0 received");
        assert_eq!(count(tl, "received", "leaver"), 3);
        assert_eq!(count(tl, "received", "fast 1"), 12);
    }

    #[test]
    fn a_cancelled_run_closes_the_server() {
        let run = DemoRun::start(request(&["messages=300", "send_every_ms=50"])).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(!run.is_finished());
        run.cancel();
        let report = run.wait();
        let r = &report.runs[0];
        assert_eq!(r.error, Some(crate::demo::RunError::Cancelled));
        assert_eq!(r.alive_after, 0);
        port_closed(r);
    }
}
