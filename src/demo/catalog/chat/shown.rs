use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Tally;
use crate::demo::{Ctx, Ended};

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
pub struct Server {
    ctx: Ctx,
    rooms: Rooms,
    capacity: usize,
    history: usize,
    lost: Tally,
}

impl Server {
    /// Rooms of `capacity` messages that keep the last `history`; messages lost to lag are
    /// counted in `lost`.
    pub fn new(ctx: &Ctx, capacity: usize, history: usize, lost: Tally) -> Server {
        Server {
            ctx: ctx.clone(),
            rooms: Rooms::default(),
            capacity,
            history,
            lost,
        }
    }

    pub async fn serve(self, listener: TcpListener, stop: CancellationToken) -> Ended {
        let mut conns = JoinSet::new();
        let mut accepted = 0;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                Some(_) = conns.join_next() => {}
                conn = listener.accept() => match conn {
                    Ok((stream, _)) => {
                        accepted += 1;
                        let name = format!("conn {accepted}");
                        let conn = self.clone().connection(name.clone(), stream);
                        self.ctx.spawn_in(&mut conns, name, conn);
                    }
                    Err(e) => return Ended::error(format!("accept failed: {e}")),
                },
            }
        }
        drop(listener); // the port closes
        // The clients have hung up: their connections end as they notice; any left are aborted.
        let ending = async { while conns.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), ending).await;
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

    /// One client: `JOIN <room> <name>`, then this task reads its lines while a sender task
    /// writes the room's messages to it.
    async fn connection(self, conn: String, stream: TcpStream) -> Ended {
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
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
        let Some(Joined { rx, recent, ended }) = self.join(&room) else {
            return Ended::error("the room registry is poisoned");
        };
        let mut hello = String::new();
        for m in &recent {
            hello.push_str(&format!("HIST {}", m.line));
        }
        hello.push_str(if ended { "JOINED\nEND\n" } else { "JOINED\n" });
        // The sender is this task's child: dropping the set aborts it, so it never outlives
        // the connection.
        let (mut sender, gone) = (JoinSet::new(), CancellationToken::new());
        let send = self.clone().send(name.clone(), rx, w, hello, gone.clone());
        self.ctx
            .spawn_in(&mut sender, format!("{conn} sender"), send);
        // Until the client leaves (end of stream or an error) or says BYE.
        while let Ok(Some(line)) = lines.next_line().await {
            match line.split_once(' ') {
                Some(("SAY", text)) => self.publish(&room, &name, text),
                _ if line == "BYE" => {
                    self.end(&room, &name);
                    break;
                }
                _ => {}
            }
        }
        self.leave(&room);
        gone.cancel(); // the sender stops after what it is writing now
        while sender.join_next().await.is_some() {}
        self.ctx.mark(format!("{name} left"));
        Ended::ok(format!("{name} left"))
    }

    /// The only writer to this socket: the room's messages out, one at a time, each write
    /// waiting while the client's socket is full. Meanwhile the room moves on; a receiver more
    /// than `capacity` behind loses the oldest messages and is told how many.
    async fn send(
        self,
        name: String,
        mut rx: broadcast::Receiver<Arc<Msg>>,
        mut w: OwnedWriteHalf,
        hello: String,
        gone: CancellationToken,
    ) -> Ended {
        let (mut sent, mut lost) = (0, 0);
        let mut written = w.write_all(hello.as_bytes()).await;
        while written.is_ok() {
            let msg = tokio::select! {
                () = gone.cancelled() => break, // the client left: nothing more to send
                msg = rx.recv() => msg,
            };
            written = match msg {
                Ok(m) if m.from == name => Ok(()),
                Ok(m) => {
                    sent += 1;
                    w.write_all(m.line.as_bytes()).await
                }
                Err(RecvError::Lagged(n)) => {
                    lost += n;
                    self.lost.add(&name, n);
                    self.ctx.mark(format!("{name} lagged: lost {n}"));
                    w.write_all(format!("LOST {n}\n").as_bytes()).await
                }
                Err(RecvError::Closed) => break,
            };
        }
        Ended::ok(format!("{name}: {sent} sent, {lost} lost"))
    }
}
