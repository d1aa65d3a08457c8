//! The subscribers of a test's SNS topic: an HTTP endpoint that catches the text messages and an
//! SQS queue that holds the JSON ones, and the recording folder a notification describes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::moto::{Moto, sqs};
use super::run::Setup;

/// A plain HTTP GET (the pre-signed link, as a mail reader's browser would follow it).
pub fn http_get(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL (moto)");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// An HTTP endpoint subscribed to a topic: moto POSTs each message there as SNS does, the
/// `default` text in SNS's envelope (what an e-mail subscriber reads). Accepts a bounded number
/// of deliveries, on 127.0.0.1 only.
pub struct Catcher {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Catcher {
    const MAX_DELIVERIES: usize = 16;

    fn start() -> Catcher {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}/sns", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(Self::MAX_DELIVERIES) {
                let Ok(mut stream) = stream else { continue };
                if let Some(body) = read_request_body(&mut stream) {
                    kept.lock().unwrap().push(body);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Catcher { url, bodies }
    }

    /// The notifications delivered so far: (subject, message text), oldest first.
    pub fn notifications(&self) -> Vec<(String, String)> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .filter(|v| v["Type"] == "Notification")
            .map(|v| {
                (
                    v["Subject"].as_str().unwrap_or_default().to_owned(),
                    v["Message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn read_request_body(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Some(body[..length].to_owned());
            }
        }
    }
}

/// The topic's subscribers: an HTTP endpoint (the text) and an SQS queue (the report JSON).
pub struct Subscribers {
    pub http: Catcher,
    queue_url: String,
}

pub async fn subscribe(
    moto: &Moto,
    sns: &aws_sdk_sns::Client,
    topic: &str,
    name: &str,
) -> Subscribers {
    let http = Catcher::start();
    sns.subscribe()
        .topic_arn(topic)
        .protocol("http")
        .endpoint(&http.url)
        .send()
        .await
        .expect("moto Subscribe http");
    let queue_url = sqs(
        moto,
        "CreateQueue",
        serde_json::json!({ "QueueName": name }),
    )["QueueUrl"]
        .as_str()
        .expect("QueueUrl")
        .to_owned();
    sns.subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:us-east-1:123456789012:{name}"))
        .send()
        .await
        .expect("moto Subscribe sqs");
    Subscribers { http, queue_url }
}

impl Subscribers {
    /// The SQS messages not received yet: SNS envelopes whose `Message` is the `sqs` variant.
    pub fn queued(&self, moto: &Moto) -> Vec<serde_json::Value> {
        let out = sqs(
            moto,
            "ReceiveMessage",
            serde_json::json!({ "QueueUrl": self.queue_url, "MaxNumberOfMessages": 10 }),
        );
        out["Messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| serde_json::from_str(m["Body"].as_str().unwrap()).unwrap())
            .collect()
    }
}

pub fn rec_dir(setup: &Setup) -> PathBuf {
    let reports = setup.dir.path().join("reports");
    std::fs::read_dir(&reports)
        .unwrap_or_else(|e| panic!("{}: {e}", reports.display()))
        .next()
        .expect("one recording folder")
        .unwrap()
        .path()
}
