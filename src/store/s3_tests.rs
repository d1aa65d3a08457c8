//! The S3 event log against an in-memory object store that honours preconditions like S3 (a
//! new ETag per write, 412 on a stale `If-Match` or an existing object under
//! `If-None-Match: *`), with a hook to let "another run" write between our read and our write.

use std::cell::RefCell;
use std::rc::Rc;

use super::*;
use crate::core::event::StopReason;
use crate::store::EventLog;

const BUCKET: &str = "state-bucket";
const KEY: &str = "nat-flowrec/events.jsonl";

type Hook = Box<dyn FnOnce(&mut Bucket)>;

#[derive(Default)]
struct Bucket {
    object: Option<StoredObject>,
    versions: u32,
    writes: u32,
    conflicts: u32,
    /// Runs before the next write is judged: another run's write landing first.
    before_write: Option<Hook>,
    /// Every write conflicts (a hot object).
    always_conflict: bool,
}

impl Bucket {
    fn put(&mut self, body: Vec<u8>, metadata: BTreeMap<String, String>) -> String {
        self.versions += 1;
        let etag = format!("\"v{}\"", self.versions);
        self.object = Some(StoredObject {
            body,
            etag: etag.clone(),
            metadata,
        });
        etag
    }

    fn text(&self) -> String {
        String::from_utf8(
            self.object
                .as_ref()
                .map(|o| o.body.clone())
                .unwrap_or_default(),
        )
        .unwrap()
    }

    fn lease_holder(&self) -> Option<String> {
        self.object
            .as_ref()
            .and_then(|o| o.metadata.get(META_LEASE_HOLDER).cloned())
    }
}

#[derive(Clone, Default)]
struct Fake(Rc<RefCell<Bucket>>);

impl ObjectStore for Fake {
    async fn read_object(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, AwsError> {
        assert_eq!((bucket, key), (BUCKET, KEY));
        Ok(self.0.borrow().object.clone())
    }

    async fn write_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: BTreeMap<String, String>,
        precondition: Precondition,
    ) -> Result<Written, AwsError> {
        assert_eq!((bucket, key), (BUCKET, KEY));
        let mut b = self.0.borrow_mut();
        if let Some(hook) = b.before_write.take() {
            hook(&mut b);
        }
        let current = b.object.as_ref().map(|o| o.etag.clone());
        let ok = !b.always_conflict
            && match (&precondition, &current) {
                (Precondition::Absent, None) => true,
                (Precondition::Matches(want), Some(have)) => want == have,
                _ => false,
            };
        if !ok {
            b.conflicts += 1;
            return Ok(Written::Conflict);
        }
        b.writes += 1;
        Ok(Written::Done {
            etag: b.put(body, metadata),
        })
    }
}

fn location() -> S3Object {
    S3Object::new(BUCKET, KEY)
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn later() -> DateTime<Utc> {
    t0() + LEASE + TimeDelta::seconds(1)
}

fn reset(n: u32) -> Event {
    Event::BudgetReset {
        nat_gateway_id: format!("nat-{n:08x}"),
    }
}

async fn open(fake: &Fake, holder: &str) -> Result<S3Log<Fake>, StoreError> {
    S3Log::open_as(fake.clone(), location(), Duration::ZERO, holder.into(), t0).await
}

fn seqs(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_new_log_is_created_leased_appended_to_and_released() {
    let fake = Fake::default();
    let mut log = open(&fake, "run-a").await.unwrap();
    assert!(log.events().is_empty() && log.is_leased());
    assert_eq!(fake.0.borrow().text(), "", "the lease creates an empty log");
    assert_eq!(fake.0.borrow().lease_holder().as_deref(), Some("run-a"));

    let written = log.append(vec![reset(1), reset(2)], t0()).await.unwrap();
    assert_eq!(seqs(&written), [1, 2]);
    assert!(log.append(vec![], t0()).await.unwrap().is_empty());
    log.append(vec![reset(3)], t0()).await.unwrap();
    assert_eq!(fake.0.borrow().text().lines().count(), 3);
    assert_eq!(
        fake.0.borrow().lease_holder().as_deref(),
        Some("run-a"),
        "appends renew the lease"
    );

    log.release().await.unwrap();
    assert!(!log.is_leased());
    assert_eq!(fake.0.borrow().lease_holder(), None);
    assert_eq!(
        fake.0.borrow().text().lines().count(),
        3,
        "release keeps the events"
    );
    let err = log.append(vec![reset(4)], t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");

    let reread = S3Log::read(fake.clone(), location()).await.unwrap();
    assert_eq!(seqs(reread.events()), [1, 2, 3]);
    assert_eq!(fake.0.borrow().conflicts, 0);
}

#[tokio::test]
async fn the_object_holds_exactly_what_the_file_backend_writes() {
    let fake = Fake::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut file = EventLog::open(&path, Duration::ZERO).unwrap();
    let mut s3 = open(&fake, "run-a").await.unwrap();
    let stopped = Event::RecordingStopped {
        recording_id: "rec-1".into(),
        nat_gateway_id: "nat-01234567".into(),
        reason: StopReason::TriggerOk,
        deleted_flow_log_ids: vec!["fl-1".into()],
    };
    for batch in [vec![reset(1)], vec![stopped.clone(), reset(2)]] {
        let a = file.append(batch.clone(), t0()).unwrap();
        let b = s3.append(batch, t0()).await.unwrap();
        assert_eq!(a, b);
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        fake.0.borrow().text()
    );
    assert_eq!(s3.events(), file.events());
}

#[tokio::test]
async fn a_second_run_is_locked_out_while_the_lease_holds_and_gets_in_after() {
    let fake = Fake::default();
    let mut first = open(&fake, "run-a").await.unwrap();
    first.append(vec![reset(1)], t0()).await.unwrap();

    let err = open(&fake, "run-b").await.err().expect("leased");
    assert!(err.is_locked(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("run-a") && message.contains(&location().to_string()),
        "{message}"
    );
    // Readers need no lease.
    assert_eq!(
        S3Log::read(fake.clone(), location())
            .await
            .unwrap()
            .events()
            .len(),
        1
    );

    first.release().await.unwrap();
    let mut second = open(&fake, "run-b").await.unwrap();
    assert_eq!(
        seqs(&second.append(vec![reset(2)], t0()).await.unwrap()),
        [2]
    );
}

#[tokio::test]
async fn a_lease_left_by_a_run_that_died_lapses() {
    let fake = Fake::default();
    let mut dead = open(&fake, "run-dead").await.unwrap();
    dead.append(vec![reset(1)], t0()).await.unwrap();
    drop(dead); // never released

    let mut next = S3Log::open_as(
        fake.clone(),
        location(),
        Duration::ZERO,
        "run-next".into(),
        later,
    )
    .await
    .unwrap();
    assert_eq!(next.events().len(), 1);
    next.append(vec![reset(2)], later()).await.unwrap();
    assert_eq!(fake.0.borrow().lease_holder().as_deref(), Some("run-next"));
}

#[tokio::test]
async fn two_runs_racing_for_the_lease_leave_one_holder_and_one_waiting() {
    let fake = Fake::default();
    // run-b's lease write lands between run-a's read and run-a's write.
    fake.0.borrow_mut().before_write = Some(Box::new(|b: &mut Bucket| {
        let until = rfc3339(&(t0() + LEASE));
        b.put(
            Vec::new(),
            BTreeMap::from([
                (META_LEASE_HOLDER.to_string(), "run-b".to_string()),
                (META_LEASE_UNTIL.to_string(), until),
            ]),
        );
    }));
    let err = open(&fake, "run-a")
        .await
        .err()
        .expect("run-a lost the race");
    assert!(err.is_locked(), "{err}");
    assert!(err.to_string().contains("run-b"), "{err}");
    assert_eq!(
        fake.0.borrow().conflicts,
        1,
        "the conditional write refused run-a"
    );
    assert_eq!(fake.0.borrow().lease_holder().as_deref(), Some("run-b"));
}

#[tokio::test]
async fn a_lost_append_re_reads_and_puts_its_events_after_the_new_ones() {
    let fake = Fake::default();
    let mut log = open(&fake, "run-a").await.unwrap();
    log.append(vec![reset(1)], t0()).await.unwrap();
    // Someone appends seq 2 (without a lease) before our next write.
    let theirs = EventEnvelope::new(2, t0(), reset(2)).to_line().unwrap();
    fake.0.borrow_mut().before_write = Some(Box::new(move |b: &mut Bucket| {
        let mut body = b.object.as_ref().unwrap().body.clone();
        body.extend_from_slice(format!("{theirs}\n").as_bytes());
        b.put(body, BTreeMap::new());
    }));
    let written = log.append(vec![reset(3)], t0()).await.unwrap();
    assert_eq!(
        seqs(&written),
        [3],
        "renumbered after the other writer's event"
    );
    assert_eq!(seqs(log.events()), [1, 2, 3]);
    let stored = S3Log::read(fake.clone(), location()).await.unwrap();
    assert_eq!(
        stored.events(),
        log.events(),
        "nothing overwritten, nothing lost"
    );
    assert_eq!(fake.0.borrow().conflicts, 1);
}

#[tokio::test]
async fn a_lease_taken_over_stops_the_append_without_writing() {
    let fake = Fake::default();
    let mut log = open(&fake, "run-a").await.unwrap();
    log.append(vec![reset(1)], t0()).await.unwrap();
    fake.0.borrow_mut().before_write = Some(Box::new(|b: &mut Bucket| {
        let body = b.object.as_ref().unwrap().body.clone();
        let until = rfc3339(&(t0() + LEASE));
        b.put(
            body,
            BTreeMap::from([
                (META_LEASE_HOLDER.to_string(), "run-b".to_string()),
                (META_LEASE_UNTIL.to_string(), until),
            ]),
        );
    }));
    let before = fake.0.borrow().text();
    let err = log.append(vec![reset(2)], t0()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::LeaseLost { pending: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("run-b"), "{err}");
    assert_eq!(fake.0.borrow().text(), before, "never overwritten");
    assert!(!log.is_leased());
    // Releasing a lease we no longer hold writes nothing.
    let writes = fake.0.borrow().writes;
    log.release().await.unwrap();
    assert_eq!(fake.0.borrow().writes, writes);
    assert_eq!(fake.0.borrow().lease_holder().as_deref(), Some("run-b"));
}

#[tokio::test]
async fn a_log_rewritten_under_the_run_is_not_overwritten() {
    let fake = Fake::default();
    let mut log = open(&fake, "run-a").await.unwrap();
    log.append(vec![reset(1), reset(2)], t0()).await.unwrap();
    let other = EventEnvelope::new(1, t0(), reset(9)).to_line().unwrap();
    fake.0.borrow_mut().before_write = Some(Box::new(move |b: &mut Bucket| {
        b.put(format!("{other}\n").into_bytes(), BTreeMap::new());
    }));
    let err = log.append(vec![reset(3)], t0()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Rewritten { pending: 1, .. }),
        "{err}"
    );
    assert_eq!(
        fake.0.borrow().text().lines().count(),
        1,
        "their version stays"
    );
    assert_eq!(seqs(log.events()), [1, 2], "our view is unchanged");
}

#[tokio::test]
async fn writes_that_keep_losing_give_up_after_a_bound() {
    let fake = Fake::default();
    let mut log = open(&fake, "run-a").await.unwrap();
    fake.0.borrow_mut().always_conflict = true;
    let err = log.append(vec![reset(1)], t0()).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Contended {
                attempts: MAX_WRITE_ATTEMPTS,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.0.borrow().conflicts, MAX_WRITE_ATTEMPTS);

    let fresh = Fake::default();
    fresh.0.borrow_mut().always_conflict = true;
    let err = open(&fresh, "run-a").await.err().expect("contended");
    assert!(matches!(err, StoreError::Contended { .. }), "{err}");
}

#[tokio::test]
async fn a_damaged_object_is_reported_with_its_line_and_not_leased() {
    let fake = Fake::default();
    let good = EventEnvelope::new(1, t0(), reset(1)).to_line().unwrap();
    fake.0.borrow_mut().put(
        format!("{good}\nnot json\n{good}\n").into_bytes(),
        BTreeMap::new(),
    );
    let err = open(&fake, "run-a").await.err().expect("corrupt");
    match &err {
        StoreError::Corrupt { line, path, .. } => {
            assert_eq!(*line, 2);
            assert_eq!(path, &PathBuf::from(location().to_string()));
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.0.borrow().writes, 0);
    assert_eq!(fake.0.borrow().lease_holder(), None);
}

#[tokio::test]
async fn a_torn_last_line_is_recovered_like_the_file_backend() {
    let fake = Fake::default();
    let good = EventEnvelope::new(1, t0(), reset(1)).to_line().unwrap();
    fake.0.borrow_mut().put(
        format!("{good}\n{}", &good[..30]).into_bytes(),
        BTreeMap::new(),
    );
    let mut log = open(&fake, "run-a").await.unwrap();
    assert_eq!(log.events().len(), 1);
    assert_eq!(log.warnings().len(), 1, "{:?}", log.warnings());
    log.append(vec![reset(2)], t0()).await.unwrap();
    let reread = S3Log::read(fake.clone(), location()).await.unwrap();
    assert!(reread.warnings().is_empty());
    assert_eq!(seqs(reread.events()), [1, 2]);
}

#[test]
fn s3_uris_are_checked() {
    assert_eq!(S3Object::in_text("state/events.jsonl"), None);
    assert_eq!(
        S3Object::in_text("s3://my-bucket/nat-flowrec/events.jsonl"),
        Some(Ok(S3Object::new("my-bucket", "nat-flowrec/events.jsonl")))
    );
    for bad in [
        "s3://",
        "s3://my-bucket",
        "s3://my-bucket/",
        "s3://My_Bucket/k",
        "s3://ab/k",
        "s3://b/dir/",
    ] {
        assert!(matches!(S3Object::in_text(bad), Some(Err(_))), "{bad}");
    }
    assert_eq!(
        location().to_string(),
        "s3://state-bucket/nat-flowrec/events.jsonl"
    );
}
