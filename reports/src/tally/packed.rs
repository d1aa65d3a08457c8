//! Packed keys for the counting loop. Nearly every conversation of a NAT gateway is IPv4 on both
//! sides, and nearly every destination an IPv4 address with a port and a protocol: such a key
//! fits one `u64`, which hashes and compares in a few instructions and halves a map slot,
//! where the general `(IpAddr, Option<IpAddr>)` key costs several hash rounds and a 64-byte
//! slot. Keys of any other shape (IPv6, an unknown remote, port or protocol) stay in the
//! general maps; a key has exactly one home, so the two never hold the same key.

use std::net::{IpAddr, Ipv4Addr};

use super::batch::{Batch, Update};
use super::sharded::Sharded;
use super::{Conversation, ConversationKey, DestinationKey, InOut};

/// Packed conversations and destinations (see the module comment), updated in batches (see
/// `batch`): the maps hold every update once [`Packed::flush`] ran.
#[derive(Debug, Clone, Default)]
pub(super) struct Packed {
    pub conversations: Sharded<Conversation>,
    pub destinations: Sharded<InOut>,
    batch: Batch,
}

impl Packed {
    #[inline(always)]
    pub fn add(&mut self, update: Update) {
        self.batch
            .push(update, &mut self.conversations, &mut self.destinations);
    }

    /// Folds the pending updates into the maps.
    pub fn flush(&mut self) {
        self.batch
            .fold(&mut self.conversations, &mut self.destinations);
    }

    /// Whether every update is in the maps.
    pub fn is_flushed(&self) -> bool {
        self.batch.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.destinations.is_empty() && self.is_flushed()
    }
}

/// `(internal, remote)` as `internal << 32 | remote` when both are IPv4.
#[inline]
pub(super) fn conversation(internal: IpAddr, remote: Option<IpAddr>) -> Option<u64> {
    match (internal, remote) {
        (IpAddr::V4(internal), Some(IpAddr::V4(remote))) => {
            Some(u64::from(internal.to_bits()) << 32 | u64::from(remote.to_bits()))
        }
        _ => None,
    }
}

pub(super) fn unpack_conversation(key: u64) -> ConversationKey {
    let internal = Ipv4Addr::from_bits((key >> 32) as u32);
    let remote = Ipv4Addr::from_bits(key as u32);
    (IpAddr::V4(internal), Some(IpAddr::V4(remote)))
}

/// `(remote, port, protocol)` as `remote << 24 | port << 8 | protocol` when the remote is IPv4
/// and both port and protocol are known.
#[inline]
pub(super) fn destination(remote: IpAddr, port: Option<u16>, protocol: Option<u8>) -> Option<u64> {
    match (remote, port, protocol) {
        (IpAddr::V4(remote), Some(port), Some(protocol)) => {
            Some(u64::from(remote.to_bits()) << 24 | u64::from(port) << 8 | u64::from(protocol))
        }
        _ => None,
    }
}

pub(super) fn unpack_destination(key: u64) -> DestinationKey {
    let remote = Ipv4Addr::from_bits((key >> 24) as u32);
    let port = (key >> 8) as u16;
    let protocol = key as u8;
    (IpAddr::V4(remote), Some(port), Some(protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_keys_pack_and_unpack_to_themselves() {
        for (internal, remote) in [
            ("10.0.1.5", "203.0.113.5"),
            ("0.0.0.0", "0.0.0.0"),
            ("255.255.255.255", "255.255.255.255"),
            ("172.31.255.1", "1.2.3.4"),
        ] {
            let key = (ip(internal), Some(ip(remote)));
            let packed = conversation(key.0, key.1).expect("IPv4 packs");
            assert_eq!(unpack_conversation(packed), key);
        }
        for (remote, port, protocol) in [
            ("203.0.113.5", 443, 6),
            ("0.0.0.0", 0, 0),
            ("255.255.255.255", 65535, 255),
        ] {
            let key = (ip(remote), Some(port), Some(protocol));
            let packed = destination(key.0, key.1, key.2).expect("IPv4 packs");
            assert_eq!(unpack_destination(packed), key);
        }
    }

    #[test]
    fn other_shapes_keep_their_general_key() {
        assert_eq!(conversation(ip("10.0.1.5"), None), None);
        assert_eq!(conversation(ip("fd00::5"), Some(ip("10.0.0.1"))), None);
        assert_eq!(
            conversation(ip("10.0.1.5"), Some(ip("::ffff:10.0.0.1"))),
            None
        );
        assert_eq!(destination(ip("2001:db8::1"), Some(443), Some(6)), None);
        assert_eq!(destination(ip("10.0.0.1"), None, Some(6)), None);
        assert_eq!(destination(ip("10.0.0.1"), Some(443), None), None);
    }

    #[test]
    fn distinct_keys_pack_to_distinct_values() {
        let a = conversation(ip("10.0.1.5"), Some(ip("10.0.1.6")));
        let b = conversation(ip("10.0.1.6"), Some(ip("10.0.1.5")));
        assert_ne!(a, b);
        let c = destination(ip("10.0.0.1"), Some(1), Some(0));
        let d = destination(ip("10.0.0.1"), Some(0), Some(1));
        assert_ne!(c, d);
    }
}
