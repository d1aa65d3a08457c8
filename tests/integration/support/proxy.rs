//! A small HTTP proxy in front of moto that sees every AWS call the code under test makes: it
//! counts them by action (`X-Amz-Target` for JSON protocols, `Action=` for query protocols) and
//! injects faults by action - AWS throttling errors in each protocol's own shape, HTTP 500/503,
//! a delay past the client's timeout, or forwarding the call and dropping the answer (the call
//! took effect in AWS but the client never heard), or forwarding it and holding the answer back
//! until the test has killed the client (a crash right after AWS acted). S3's REST calls are
//! named `s3:<Operation>` (the SDK's `x-id` query parameter). moto has no fault injection
//! (docs/DESIGN.md, "Testing").
//!
//! Plain std threads and blocking sockets: the proxy must not share the tests' tokio runtimes,
//! and its request loops are bounded by the tests that drive it.

#![allow(dead_code)] // each test uses a part

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long `wait_held` / `wait_idle` wait before failing the test: far beyond any run's length,
/// only there so a broken case fails instead of hanging the test binary.
const WAIT_LIMIT: Duration = Duration::from_secs(300);

/// What to do to the next call of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The throttling error AWS gives for this service (`RequestLimitExceeded` for EC2,
    /// `ThrottlingException` for JSON services, `Throttling` for query services).
    Throttle,
    /// HTTP status with an empty body (500, 503).
    Status(u16),
    /// Wait this long before forwarding (past the client's attempt timeout).
    Delay(Duration),
    /// Forward to moto, then close the connection without answering.
    ForwardThenDrop,
    /// Forward to moto, then never answer: the connection stays open until the client goes
    /// away. `Proxy::wait_held` tells the test when AWS has acted, so it can SIGKILL the client.
    ForwardThenHold,
}

#[derive(Default)]
struct Shared {
    /// Every call seen, in order: the action name.
    calls: Vec<String>,
    /// The form bodies of query-protocol calls (CloudWatch, SNS, IAM...), with their action.
    query_bodies: Vec<(String, String)>,
    /// Faults queued per action; each call of the action takes one (`None`: pass this call).
    faults: BTreeMap<String, VecDeque<Option<Fault>>>,
    /// Actions whose `ForwardThenHold` call has reached moto, in order.
    held: Vec<String>,
    /// Faulted calls still being served (a delayed forward still to reach moto).
    in_flight: usize,
}

/// A running proxy; it lives as long as the test binary (its threads end with the process).
#[derive(Clone)]
pub struct Proxy {
    /// `http://127.0.0.1:<port>`: give it to `--endpoint-url` instead of moto's.
    pub endpoint: String,
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Proxy {
    /// A new proxy forwarding to `upstream` (`http://127.0.0.1:<port>`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("the upstream is plain http on loopback")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port on 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let for_thread = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&for_thread);
                let upstream = upstream.clone();
                std::thread::spawn(move || serve(client, &upstream, &shared));
            }
        });
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    /// Queues `fault` for the next `times` calls of `action` (e.g. `CreateFlowLogs`).
    pub fn inject(&self, action: &str, fault: Fault, times: usize) {
        self.inject_after(action, 0, fault, times);
    }

    /// Lets the next `skip` calls of `action` through, then faults `times` calls (e.g. the
    /// second page of a paged read).
    pub fn inject_after(&self, action: &str, skip: usize, fault: Fault, times: usize) {
        let mut shared = self.shared.0.lock().unwrap();
        let queue = shared.faults.entry(action.to_string()).or_default();
        queue.extend(std::iter::repeat_n(None, skip));
        queue.extend(std::iter::repeat_n(Some(fault), times));
    }

    /// Faults still queued for `action` (0 once every injected fault has been met).
    pub fn pending(&self, action: &str) -> usize {
        let shared = self.shared.0.lock().unwrap();
        shared.faults.get(action).map_or(0, VecDeque::len)
    }

    /// Blocks until a `ForwardThenHold` call of `action` has reached moto (AWS has acted and the
    /// client is waiting for an answer that never comes): `true`. `false` as soon as
    /// `client_running` says the client ended first (it never made the call).
    pub fn wait_held(&self, action: &str, mut client_running: impl FnMut() -> bool) -> bool {
        let (lock, changed) = &*self.shared;
        let started = Instant::now();
        let mut shared = lock.lock().unwrap();
        while !shared.held.iter().any(|a| a == action) {
            if !client_running() {
                return shared.held.iter().any(|a| a == action);
            }
            assert!(
                started.elapsed() < WAIT_LIMIT,
                "{action} was never held and the client still runs"
            );
            shared = changed
                .wait_timeout(shared, Duration::from_millis(50))
                .unwrap()
                .0;
        }
        true
    }

    /// Blocks until no faulted call is being served any more: a delayed call has reached moto
    /// (it acts late, after the client gave up), so what AWS shows next is final.
    pub fn wait_idle(&self) {
        let (lock, changed) = &*self.shared;
        let started = Instant::now();
        let mut shared = lock.lock().unwrap();
        while shared.in_flight > 0 {
            let left = WAIT_LIMIT.saturating_sub(started.elapsed());
            assert!(!left.is_zero(), "a faulted call is still in flight");
            shared = changed.wait_timeout(shared, left).unwrap().0;
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.shared.0.lock().unwrap().calls.clone()
    }

    /// How many calls of `action` so far.
    pub fn count(&self, action: &str) -> usize {
        self.calls().iter().filter(|c| *c == action).count()
    }

    /// The form bodies of the query-protocol calls of `action` so far, in order
    /// (`Action=GetMetricData&MetricDataQueries.member.1.Id=m0_0&...`).
    pub fn query_bodies(&self, action: &str) -> Vec<String> {
        let s = self.shared.0.lock().unwrap();
        s.query_bodies
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, body)| body.clone())
            .collect()
    }

    pub fn clear_calls(&self) {
        let mut s = self.shared.0.lock().unwrap();
        s.calls.clear();
        s.query_bodies.clear();
    }
}

/// One HTTP/1.1 request as read from the client (also what the Runtime API emulator reads).
pub struct Request {
    /// The request line, then the header lines.
    pub head: Vec<String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// `X-Amz-Target: Logs_20140328.FilterLogEvents` -> `FilterLogEvents`; a query body
    /// `Action=DescribeFlowLogs&...` -> `DescribeFlowLogs`; S3's `PUT /b/k?x-id=PutObject` ->
    /// `s3:PutObject`; else the method and path.
    fn action(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_string();
        }
        let path = self.head[0].split(' ').nth(1).unwrap_or_default();
        if let Some((_, query)) = path.split_once('?')
            && let Some(op) = query.split('&').find_map(|p| p.strip_prefix("x-id="))
        {
            return format!("s3:{op}");
        }
        let body = String::from_utf8_lossy(&self.body);
        let query = self.head[0]
            .split(' ')
            .nth(1)
            .and_then(|p| p.split_once('?'))
            .map(|(_, q)| q);
        for part in body
            .split('&')
            .chain(query.into_iter().flat_map(|q| q.split('&')))
        {
            if let Some(action) = part.strip_prefix("Action=") {
                return action.to_string();
            }
        }
        self.head[0]
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Which error shape the service speaks.
    fn protocol(&self) -> Protocol {
        match self.header("content-type") {
            Some(ct) if ct.contains("json") => Protocol::Json,
            _ if self.header("x-amz-target").is_some() => Protocol::Json,
            _ if self.action().starts_with("s3:") => Protocol::S3,
            _ if String::from_utf8_lossy(&self.body).contains("Version=2016-11-15") => {
                Protocol::Ec2
            }
            _ => Protocol::Query,
        }
    }
}

enum Protocol {
    S3,
    Ec2,
    Query,
    Json,
}

fn serve(client: TcpStream, upstream: &str, shared: &(Mutex<Shared>, Condvar)) {
    let (lock, changed) = shared;
    let mut reader = BufReader::new(match client.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut client = client;
    while let Some(request) = read_request(&mut reader) {
        let action = request.action();
        let fault = {
            let mut s = lock.lock().unwrap();
            s.calls.push(action.clone());
            if matches!(request.protocol(), Protocol::Query) {
                let body = String::from_utf8_lossy(&request.body).into_owned();
                s.query_bodies.push((action.clone(), body));
            }
            let fault = s
                .faults
                .get_mut(&action)
                .and_then(VecDeque::pop_front)
                .flatten();
            if fault.is_some() {
                s.in_flight += 1;
            }
            fault
        };
        let faulted = fault.is_some();
        let done = || {
            if faulted {
                lock.lock().unwrap().in_flight -= 1;
                changed.notify_all();
            }
        };
        let response = match fault {
            Some(Fault::Throttle) => {
                done();
                throttle(&request)
            }
            Some(Fault::Status(code)) => {
                done();
                format!("HTTP/1.1 {code} Injected\r\nContent-Length: 0\r\n\r\n").into_bytes()
            }
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                let forwarded = forward(&request, upstream);
                done();
                match forwarded {
                    Some(r) => r,
                    None => return,
                }
            }
            Some(Fault::ForwardThenDrop) => {
                let _ = forward(&request, upstream);
                let _ = client.shutdown(Shutdown::Both);
                done();
                return;
            }
            Some(Fault::ForwardThenHold) => {
                let _ = forward(&request, upstream);
                lock.lock().unwrap().held.push(action);
                done();
                // Until the client hangs up (it is killed): no answer ever.
                let mut sink = [0u8; 1024];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            None => match forward(&request, upstream) {
                Some(r) => r,
                None => return,
            },
        };
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// The next request on a kept-alive connection; `None` once the client hung up. A chunked body
/// is de-chunked and given a Content-Length.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    if head.is_empty() {
        return None;
    }
    let mut request = Request {
        head,
        body: Vec::new(),
    };
    if let Some(len) = request
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    } else if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        request.body = read_chunked(reader)?;
        request
            .head
            .retain(|l| !l.to_ascii_lowercase().starts_with("transfer-encoding:"));
        request
            .head
            .push(format!("Content-Length: {}", request.body.len()));
    }
    Some(request)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Sends the request to moto on a fresh connection and returns its whole answer, re-framed with
/// a Content-Length so the client's connection can be kept alive.
fn forward(request: &Request, upstream: &str) -> Option<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream).ok()?;
    let mut out = Vec::new();
    for line in &request.head {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("keep-alive:") {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&request.body);
    moto.write_all(&out).ok()?;
    let mut reader = BufReader::new(moto);
    let mut status = String::new();
    reader.read_line(&mut status).ok()?;
    let mut headers = Vec::new();
    let mut chunked = false;
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
            continue;
        }
        if lower.starts_with("connection:") {
            continue;
        }
        headers.push(line);
    }
    let body = if chunked {
        read_chunked(&mut reader)?
    } else if let Some(len) = length {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        body
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).ok()?;
        body
    };
    let mut response = status.trim_end().as_bytes().to_vec();
    response.extend_from_slice(b"\r\n");
    for h in headers {
        response.extend_from_slice(h.as_bytes());
        response.extend_from_slice(b"\r\n");
    }
    response.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    response.extend_from_slice(&body);
    Some(response)
}

fn throttle(request: &Request) -> Vec<u8> {
    let (status, content_type, body) = match request.protocol() {
        Protocol::S3 => (
            503,
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>injected</RequestId></Error>".to_string(),
        ),
        Protocol::Ec2 => (
            503,
            "text/xml",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>injected</RequestID></Response>".to_string(),
        ),
        Protocol::Query => (
            400,
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>injected</RequestId></ErrorResponse>".to_string(),
        ),
        Protocol::Json => (
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
        ),
    };
    format!(
        "HTTP/1.1 {status} Throttled\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: injected\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
