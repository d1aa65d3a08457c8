//! Flow-log records the tests put into moto's log groups.

pub use nat_flowrec_parsers::synth::four_legs;
