//! Serving the tokio-console protocol (`--console`), so `tokio-console` in a second terminal shows
//! the running demos' tasks by name.
//!
//! The console layer is composed into our own tracing registry (never `console_subscriber::init`,
//! whose fmt layer would write over the terminal app), and its gRPC server runs on a thread of its
//! own with a listener we bind ourselves: a taken port is reported, not a panic, and we can count
//! connected clients for the status bar.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use thiserror::Error;

/// The default address, tokio-console's own default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:6669";

#[derive(Debug, Error)]
pub enum ConsoleError {
    #[error(
        "this asyncdojo was built without tokio-console support; build it with the default \
         `console` feature and `--cfg tokio_unstable` (which .cargo/config.toml sets), e.g. \
         `cargo install --path .`"
    )]
    NotBuilt,
    #[error("tokio-console only listens on loopback; {addr} is not a loopback address")]
    NotLoopback { addr: SocketAddr },
    #[error(
        "cannot serve tokio-console on {addr}: {source} (is another asyncdojo running? try --console-addr 127.0.0.1:0)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the console's tracing layer: {0}")]
    Subscriber(String),
}

/// A console server that is running: where, and how many clients are connected.
#[derive(Debug, Clone)]
pub struct ConsoleStatus {
    pub addr: SocketAddr,
    clients: Arc<AtomicUsize>,
}

impl ConsoleStatus {
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::SeqCst)
    }
}

/// Called with the new number of connected clients whenever it changes.
pub type OnClients = Box<dyn Fn(usize) + Send + Sync>;

/// Start serving. Call before any demo runtime starts: tasks spawned earlier are not seen.
pub fn serve(addr: SocketAddr, on_clients: OnClients) -> Result<ConsoleStatus, ConsoleError> {
    if !addr.ip().is_loopback() {
        return Err(ConsoleError::NotLoopback { addr });
    }
    imp::serve(addr, on_clients)
}

#[cfg(all(feature = "console", tokio_unstable))]
mod imp {
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    use super::{ConsoleError, ConsoleStatus, OnClients};

    pub fn serve(addr: SocketAddr, on_clients: OnClients) -> Result<ConsoleStatus, ConsoleError> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ConsoleError::Bind { addr, source })?;

        let (layer, server) = console_subscriber::ConsoleLayer::builder()
            .with_default_env()
            .server_addr(local)
            .build();
        // Only tokio's own instrumentation: the same filter console_subscriber::spawn uses.
        let filter = tracing_subscriber::filter::FilterFn::new(|meta| {
            if meta.is_event() {
                meta.target().starts_with("runtime") || meta.target().starts_with("tokio")
            } else {
                meta.name().starts_with("runtime.") || meta.target().starts_with("tokio")
            }
        });
        tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init()
            .map_err(|e| ConsoleError::Subscriber(e.to_string()))?;

        let clients = Arc::new(AtomicUsize::new(0));
        let status = ConsoleStatus {
            addr: local,
            clients: Arc::clone(&clients),
        };
        let on_clients: Arc<OnClients> = Arc::new(on_clients);
        std::thread::Builder::new()
            .name("console-server".into())
            .spawn(move || {
                // The server's own work must not show up as tasks in the console it serves.
                let _quiet =
                    tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let parts = server.into_parts();
                    tokio::spawn(parts.aggregator.run());
                    let incoming = futures::stream::unfold(listener, move |listener| {
                        let clients = Arc::clone(&clients);
                        let on_clients = Arc::clone(&on_clients);
                        async move {
                            let accepted = listener.accept().await.map(|(stream, _)| {
                                let n = clients.fetch_add(1, Ordering::SeqCst) + 1;
                                on_clients(n);
                                Counted {
                                    stream,
                                    clients,
                                    on_clients,
                                }
                            });
                            Some((accepted, listener))
                        }
                    });
                    let _ = tonic::transport::Server::builder()
                        .add_service(parts.instrument_server)
                        .serve_with_incoming(incoming)
                        .await;
                });
            })
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        Ok(status)
    }

    /// A client connection that keeps the connected-clients count while it lives.
    struct Counted {
        stream: tokio::net::TcpStream,
        clients: Arc<AtomicUsize>,
        on_clients: Arc<OnClients>,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            let n = self
                .clients
                .fetch_sub(1, Ordering::SeqCst)
                .saturating_sub(1);
            (self.on_clients)(n);
        }
    }

    impl tonic::transport::server::Connected for Counted {
        type ConnectInfo =
            <tokio::net::TcpStream as tonic::transport::server::Connected>::ConnectInfo;

        fn connect_info(&self) -> Self::ConnectInfo {
            self.stream.connect_info()
        }
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.stream).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_flush(cx)
        }

        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_shutdown(cx)
        }
    }
}

#[cfg(not(all(feature = "console", tokio_unstable)))]
mod imp {
    use std::net::SocketAddr;

    use super::{ConsoleError, ConsoleStatus, OnClients};

    pub fn serve(_: SocketAddr, _: OnClients) -> Result<ConsoleStatus, ConsoleError> {
        Err(ConsoleError::NotBuilt)
    }
}
