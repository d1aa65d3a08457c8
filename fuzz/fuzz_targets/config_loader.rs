//! Any text as the TOML configuration: a configuration or an error naming the key, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat_flowrec::config::Config;

fuzz_target!(|text: &str| {
    if let Err(err) = Config::from_toml_str(text, "fuzz.toml") {
        // Rendering the message must not panic either.
        let _ = err.to_string();
    }
});
