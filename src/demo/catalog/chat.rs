//! Q13: a chat server on a loopback TCP listener (a line protocol), its rooms on tokio's
//! broadcast channel. Real TCP clients: a talker, fast readers, one slow reader, one that leaves
//! mid-stream and one that joins late and gets the room's recent history first.

mod shown;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, SetupError, VariantSpec, params,
    variants,
};
use shown::Server;

pub struct Chat;

variants! {
    pub enum Variant {
        Broadcast => VariantSpec::real(
            "broadcast",
            "tokio::sync::broadcast per room; a lagging receiver skips ahead (Lagged(n))",
        ),
    }
}

params! {
    #[derive(Clone)]
    pub struct Config {
        fast_clients: usize = Int(1..=8), "2",
            "clients that read every line as soon as it comes";
        messages: usize = Int(1..=300), "60", "messages the talker sends, numbered from 1";
        message_bytes: usize = Int(16..=4096), "512", "size of each message line";
        send_every_ms: Duration = Ms(0..=50), "5",
            "the talker's pause between messages (0: one burst, which can outrun \
             even the fast clients' tasks)";
        room_capacity: usize = Int(1..=256), "8",
            "broadcast channel capacity: how many messages a connection may fall behind \
             before it loses the oldest";
        slow_read_ms: Duration = Ms(0..=50), "20",
            "the slow client's pause before each read from its socket";
        history: usize = Int(0..=50), "5",
            "how many recent messages a joining client is sent first";
        late_join_after: usize = Int(0..=300), "30",
            "the late client joins once the talker has sent this many messages \
             (`messages` or more: after the room has ended, it still gets the history)";
        leave_after: usize = Int(1..=300), "20",
            "the leaving client disconnects after receiving this many messages";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "chat",
    title: "Chat rooms over a broadcast channel, with a slow client",
    about: "A talker sends `messages` lines to a room. Every connection is two tasks: one reads \
            the client, its sender is the only writer to the socket and forwards the room's \
            broadcast. The slow client's socket fills, its sender falls behind by more than \
            `room_capacity` and loses the oldest messages, counted and told to it. The other \
            clients get every message; one leaves mid-stream, one joins late and first gets the \
            last `history` messages.",
    variants: Variant::SPECS,
    default_variants: &[Variant::Broadcast.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "received",
            "messages each client received live (history not included)",
        ),
        (
            "lost",
            "messages each connection's sender skipped because it lagged (broadcast Lagged(n))",
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
    source: include_str!("chat/shown.rs"),
    source_file: "src/demo/catalog/chat/shown.rs",
};

impl DemoProgram for Chat {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            let (listener, addr) = match listen() {
                Ok(bound) => bound,
                Err(e) => return ctx.setup_failed("server", e).await,
            };
            ctx.metric("port", addr.port());
            let stop = CancellationToken::new();
            let server = match variant {
                Variant::Broadcast => Server::new(
                    &ctx,
                    cfg.room_capacity,
                    cfg.history,
                    Tally::new(&ctx, "lost"),
                ),
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
fn listen() -> Result<(TcpListener, SocketAddr), SetupError> {
    let bound = || {
        let socket = TcpSocket::new_v4()?;
        socket.set_send_buffer_size(4096)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        socket.listen(64)
    };
    let listener = bound().map_err(|e| SetupError::new("cannot listen on 127.0.0.1", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| SetupError::new("no address", e))?;
    Ok((listener, addr))
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

/// Why a client could not go on; its lane ends with this.
#[derive(Debug, thiserror::Error)]
enum ClientError {
    #[error("socket: {0}")]
    Socket(std::io::Error),
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("cannot send: {0}")]
    Send(std::io::Error),
    #[error("the server closed the connection while joining")]
    ClosedWhileJoining,
    #[error("read failed: {0}")]
    Read(std::io::Error),
    #[error("no line for 10 s")]
    Silent,
}

/// Line reader for a client; the slow one reads through a small buffer, so each read takes
/// little from its socket.
type ClientLines = tokio::io::Lines<BufReader<OwnedReadHalf>>;

/// Connect, join the lobby and read up to `JOINED`: returns the history received.
async fn join(
    addr: SocketAddr,
    name: &str,
    role: Role,
) -> Result<(ClientLines, OwnedWriteHalf, Vec<u64>), ClientError> {
    let socket = TcpSocket::new_v4().map_err(ClientError::Socket)?;
    if let Role::Slow(_) = role {
        // A small receive window: the server's writes stall after a few messages.
        socket
            .set_recv_buffer_size(2048)
            .map_err(ClientError::Socket)?;
    }
    let stream = socket.connect(addr).await.map_err(ClientError::Connect)?;
    // Without it Nagle's algorithm holds each short line until the last is acknowledged, and
    // the server delays its acknowledgements by up to 40 ms: the talker's lines would arrive in
    // bursts of seven or more, enough to overflow a small room.
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let capacity = if let Role::Slow(_) = role { 256 } else { 8192 };
    let mut lines = BufReader::with_capacity(capacity, r).lines();
    w.write_all(format!("JOIN lobby {name}\n").as_bytes())
        .await
        .map_err(ClientError::Send)?;
    let mut history = Vec::new();
    loop {
        match next(&mut lines).await? {
            Some(l) if l.starts_with("JOINED") => return Ok((lines, w, history)),
            Some(l) => history.extend(l.strip_prefix("HIST ").and_then(seq)),
            None => return Err(ClientError::ClosedWhileJoining),
        }
    }
}

/// The next line, or an error after 10 s of silence (the run stays bounded).
async fn next(lines: &mut ClientLines) -> Result<Option<String>, ClientError> {
    match tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await {
        Ok(Ok(line)) => Ok(line),
        Ok(Err(e)) => Err(ClientError::Read(e)),
        Err(_) => Err(ClientError::Silent),
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
        Err(e) => return Ended::error(e.to_string()),
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
            Err(e) => return Ended::error(e.to_string()),
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
        Err(e) => return Ended::error(e.to_string()),
    };
    let wait = tokio::time::timeout(Duration::from_secs(5), joined.acquire_many(readers));
    if !matches!(wait.await, Ok(Ok(_))) {
        return Ended::error("the readers did not join");
    }
    for n in 1..=cfg.messages {
        let head = format!("SAY {n} ");
        let pad = "x".repeat(cfg.message_bytes.saturating_sub(head.len() + 12).max(1));
        if let Err(e) = w.write_all(format!("{head}{pad}\n").as_bytes()).await {
            return Ended::error(format!("cannot send: {e}"));
        }
        sent.send_replace(n);
        tokio::time::sleep(cfg.send_every_ms).await;
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
    let mut readers: Vec<(String, Role)> = (1..=cfg.fast_clients)
        .map(|i| (format!("fast {i}"), Role::Fast))
        .collect();
    readers.push(("slow".into(), Role::Slow(cfg.slow_read_ms)));
    readers.push(("leaver".into(), Role::Leaver(cfg.leave_after)));
    let first = readers.len() as u32;
    // `messages` or more: after the talker's goodbye.
    let late_after = if cfg.late_join_after >= cfg.messages {
        cfg.messages + 1
    } else {
        cfg.late_join_after
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
