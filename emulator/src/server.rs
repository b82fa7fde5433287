//! Sockets and threads: a listener on 127.0.0.1, one accept thread, one
//! thread per connection serving keep-alive requests in order. Shutting down
//! closes the listener and every open socket and joins all threads, so a
//! dropped handle leaves nothing running.

use crate::http::{Conn, ReadError, Response};
use crate::hub::{Hub, Outcome};
use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Default)]
struct Conns {
    next: u64,
    open: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// A running server.
pub(crate) struct Server {
    pub hub: Arc<Hub>,
    pub addr: SocketAddr,
    shutdown: Arc<AtomicBool>,
    conns: Arc<Mutex<Conns>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(port: u16, opts: crate::Options) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let hub = Arc::new(Hub::new(opts, shutdown.clone(), format!("http://{addr}")));
        let conns = Arc::new(Mutex::new(Conns::default()));
        let acceptor = {
            let (hub, shutdown, conns) = (hub.clone(), shutdown.clone(), conns.clone());
            std::thread::Builder::new()
                .name("hubspot-emulator-accept".into())
                .spawn(move || accept_loop(listener, hub, shutdown, conns))?
        };
        Ok(Server {
            hub,
            addr,
            shutdown,
            conns,
            acceptor: Some(acceptor),
        })
    }
}

fn lock(conns: &Mutex<Conns>) -> std::sync::MutexGuard<'_, Conns> {
    conns.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: Arc<AtomicBool>,
    conns: Arc<Mutex<Conns>>,
) {
    for stream in listener.incoming() {
        if shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let mut c = lock(&conns);
        c.threads.retain(|t| !t.is_finished());
        c.next += 1;
        let id = c.next;
        c.open.insert(id, registered);
        let (hub, conns2) = (hub.clone(), conns.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("hubspot-emulator-conn-{id}"))
            .spawn(move || {
                serve(stream, &hub);
                lock(&conns2).open.remove(&id);
            });
        match spawned {
            Ok(t) => c.threads.push(t),
            Err(_) => {
                if let Some(s) = c.open.remove(&id) {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }
}

/// Serves requests on one connection until it closes.
fn serve(stream: TcpStream, hub: &Hub) {
    let mut conn = Conn::new(stream);
    loop {
        if hub.shutdown.load(Ordering::Relaxed) {
            return;
        }
        let req = match conn.read_request() {
            Ok(Some(req)) => req,
            Ok(None) | Err(ReadError::Io) => return,
            Err(ReadError::Bad(status, msg)) => {
                let body = serde_json::json!({ "status": "error", "message": msg });
                let _ = conn.write_response(&Response::json(status, &body), false);
                return;
            }
        };
        match hub.handle(&req) {
            Outcome::Reply(resp) => {
                let keep = req.keep_alive && !hub.shutdown.load(Ordering::Relaxed);
                if conn.write_response(&resp, keep).is_err() || !keep {
                    let _ = conn.stream.shutdown(Shutdown::Write);
                    return;
                }
            }
            Outcome::Drop => {
                let _ = conn.stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept thread, blocked in accept(), with a throwaway connection.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        let threads = {
            let mut c = lock(&self.conns);
            for s in c.open.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut c.threads)
        };
        for t in threads {
            let _ = t.join();
        }
    }
}
