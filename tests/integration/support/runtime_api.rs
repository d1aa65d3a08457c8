//! A Lambda Runtime API emulator: the HTTP API a `provided.al2023` function's `bootstrap` polls
//! for invocations (`AWS_LAMBDA_RUNTIME_API`), as AWS documents version 2018-06-01:
//! * `GET /2018-06-01/runtime/invocation/next`: blocks until an invocation is queued, then
//!   answers its payload with the `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`,
//!   `-Invoked-Function-Arn` and `-Trace-Id` headers;
//! * `POST /2018-06-01/runtime/invocation/{id}/response`: the invocation's result (202);
//! * `POST /2018-06-01/runtime/invocation/{id}/error`: its failure, `{"errorType",
//!   "errorMessage"}` and an optional `Lambda-Runtime-Function-Error-Type` header (202);
//! * `POST /2018-06-01/runtime/init/error`: the function could not start (202).
//!
//! An unknown request id is 400 and an unknown path 404, as Lambda answers them. A test queues
//! invocations the way `aws lambda invoke` would and waits for their outcome; one emulator serves
//! one function instance (one `bootstrap` process), like one execution environment.
//!
//! Plain std threads and blocking sockets, like the proxy: /next is a long poll that must not
//! hold a tokio worker of the test.

#![allow(dead_code)] // each test uses a part

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::proxy::{Request, read_request};

/// The function's timeout as the deadline header gives it (the template's `Timeout`).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(300);
const PREFIX: &str = "/2018-06-01/runtime/";

/// An error the function reported (`/invocation/{id}/error` or `/init/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub error_type: String,
    pub error_message: String,
    /// `Lambda-Runtime-Function-Error-Type`, when sent.
    pub header: Option<String>,
}

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    Error(Reported),
}

impl Outcome {
    /// The response; panics (failing the test) with the error otherwise.
    pub fn response(self) -> Value {
        match self {
            Outcome::Response(value) => value,
            Outcome::Error(e) => panic!("the invocation failed: {e:?}"),
        }
    }

    pub fn error(self) -> Reported {
        match self {
            Outcome::Error(e) => e,
            Outcome::Response(value) => panic!("the invocation succeeded: {value}"),
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Invocations not yet handed to the function: (request id, payload).
    queued: VecDeque<(String, String)>,
    /// Handed out by /next and not answered yet.
    running: Vec<String>,
    outcomes: BTreeMap<String, Outcome>,
    init_error: Option<Reported>,
    /// /next calls so far (the first one is the end of the cold start).
    polls: usize,
    next_id: u64,
}

/// A running emulator; it lives as long as the test binary (its threads end with the process).
#[derive(Clone)]
pub struct RuntimeApi {
    /// `127.0.0.1:<port>`: what `AWS_LAMBDA_RUNTIME_API` holds (no scheme, as Lambda sets it).
    pub address: String,
    pub function_arn: String,
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl RuntimeApi {
    pub fn start(function_name: &str, region: &str) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port on 127.0.0.1");
        let address = listener.local_addr().expect("local address").to_string();
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let api = RuntimeApi {
            address,
            function_arn: format!("arn:aws:lambda:{region}:123456789012:function:{function_name}"),
            shared,
        };
        let server = api.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || server.serve(client));
            }
        });
        api
    }

    /// Queues an invocation (the payload as `aws lambda invoke --payload` sends it); its request id.
    pub fn queue(&self, payload: &str) -> String {
        let (lock, changed) = &*self.shared;
        let mut shared = lock.lock().unwrap();
        shared.next_id += 1;
        let id = format!("00000000-0000-4000-8000-{:012}", shared.next_id);
        shared.queued.push_back((id.clone(), payload.to_string()));
        changed.notify_all();
        id
    }

    /// Waits for the outcome of invocation `id`. Fails the test when `alive` says the function
    /// is gone first (it crashed or exited) or after `limit`.
    pub fn outcome(&self, id: &str, limit: Duration, mut alive: impl FnMut() -> bool) -> Outcome {
        let (lock, changed) = &*self.shared;
        let started = Instant::now();
        let mut shared = lock.lock().unwrap();
        loop {
            if let Some(outcome) = shared.outcomes.get(id) {
                return outcome.clone();
            }
            assert!(
                alive(),
                "the function exited before answering invocation {id} (init error: {:?})",
                shared.init_error
            );
            assert!(
                started.elapsed() < limit,
                "invocation {id} got no answer within {limit:?}"
            );
            shared = changed
                .wait_timeout(shared, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    /// Queues `payload` and waits for its outcome.
    pub fn invoke(&self, payload: &str, limit: Duration, alive: impl FnMut() -> bool) -> Outcome {
        let id = self.queue(payload);
        self.outcome(&id, limit, alive)
    }

    /// Blocks until the function has asked for its first invocation (its cold start is over)
    /// or `alive` says it is gone.
    pub fn wait_polling(&self, limit: Duration, mut alive: impl FnMut() -> bool) -> bool {
        let (lock, changed) = &*self.shared;
        let started = Instant::now();
        let mut shared = lock.lock().unwrap();
        while shared.polls == 0 {
            if !alive() {
                return false;
            }
            assert!(started.elapsed() < limit, "no /next within {limit:?}");
            shared = changed
                .wait_timeout(shared, Duration::from_millis(20))
                .unwrap()
                .0;
        }
        true
    }

    pub fn init_error(&self) -> Option<Reported> {
        self.shared.0.lock().unwrap().init_error.clone()
    }

    fn serve(&self, client: TcpStream) {
        let mut reader = match client.try_clone() {
            Ok(c) => BufReader::new(c),
            Err(_) => return,
        };
        let mut client = client;
        while let Some(request) = read_request(&mut reader) {
            let answer = self.answer(&request);
            if client.write_all(&answer).is_err() {
                return;
            }
        }
    }

    fn answer(&self, request: &Request) -> Vec<u8> {
        let mut line = request.head[0].split(' ');
        let method = line.next().unwrap_or_default();
        let path = line.next().unwrap_or_default();
        let Some(route) = path.strip_prefix(PREFIX) else {
            return reply(
                404,
                &[],
                r#"{"errorType":"NotFound","errorMessage":"no such path"}"#,
            );
        };
        match (method, route.split('/').collect::<Vec<_>>().as_slice()) {
            ("GET", ["invocation", "next"]) => self.next(),
            ("POST", ["invocation", id, "response"]) => {
                match serde_json::from_slice::<Value>(&request.body) {
                    Ok(value) => self.finish(id, Outcome::Response(value)),
                    Err(e) => reply(
                        413,
                        &[],
                        &format!(r#"{{"errorType":"InvalidResponse","errorMessage":"{e}"}}"#),
                    ),
                }
            }
            ("POST", ["invocation", id, "error"]) => {
                self.finish(id, Outcome::Error(reported(request)))
            }
            ("POST", ["init", "error"]) => {
                let (lock, changed) = &*self.shared;
                lock.lock().unwrap().init_error = Some(reported(request));
                changed.notify_all();
                reply(202, &[], r#"{"status":"OK"}"#)
            }
            _ => reply(
                404,
                &[],
                r#"{"errorType":"NotFound","errorMessage":"no such path"}"#,
            ),
        }
    }

    /// The long poll: the next queued invocation, whenever it comes.
    fn next(&self) -> Vec<u8> {
        let (lock, changed) = &*self.shared;
        let mut shared = lock.lock().unwrap();
        shared.polls += 1;
        changed.notify_all();
        let (id, payload) = loop {
            if let Some(invocation) = shared.queued.pop_front() {
                break invocation;
            }
            shared = changed.wait(shared).unwrap();
        };
        shared.running.push(id.clone());
        let deadline = SystemTime::now() + FUNCTION_TIMEOUT;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            .to_string();
        reply(
            200,
            &[
                ("Lambda-Runtime-Aws-Request-Id", &id),
                ("Lambda-Runtime-Deadline-Ms", &deadline_ms),
                ("Lambda-Runtime-Invoked-Function-Arn", &self.function_arn),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0",
                ),
            ],
            &payload,
        )
    }

    fn finish(&self, id: &str, outcome: Outcome) -> Vec<u8> {
        let (lock, changed) = &*self.shared;
        let mut shared = lock.lock().unwrap();
        let Some(at) = shared.running.iter().position(|r| r == id) else {
            return reply(
                400,
                &[],
                r#"{"errorType":"InvalidRequestID","errorMessage":"no invocation is running with this request id"}"#,
            );
        };
        shared.running.remove(at);
        shared.outcomes.insert(id.to_string(), outcome);
        changed.notify_all();
        reply(202, &[], r#"{"status":"OK"}"#)
    }
}

/// An error body as the runtime sends it; a body that is not one is kept as the message.
fn reported(request: &Request) -> Reported {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_else(
        |_| serde_json::json!({"errorMessage": String::from_utf8_lossy(&request.body)}),
    );
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_string();
    Reported {
        error_type: field("errorType"),
        error_message: field("errorMessage"),
        header: request
            .header("Lambda-Runtime-Function-Error-Type")
            .map(str::to_string),
    }
}

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Payload Too Large",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}
