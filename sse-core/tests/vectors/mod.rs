//! Reading `tests/data/cases.json`: its byte-string escapes and `[text, repeat]` lists.
//! Shared by `tests/conformance.rs` and the fuzz seeds (`fuzz/examples/seed_corpus.rs`).

use serde_json::Value;

/// Undoes the Rust byte-string escapes of `cases.json`: `\n \r \t \0 \\ \" \xNN`.
pub(crate) fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("bad \\x escape"));
            }
            other => panic!("unknown escape \\{other:?} in {text:?}"),
        }
    }
    out
}

/// Concatenates a list of `[text, repeat]` pairs, each text transformed by `f`.
pub(crate) fn repeated(pairs: &Value, f: impl Fn(&str) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for pair in pairs.as_array().unwrap() {
        let piece = f(pair[0].as_str().unwrap());
        for _ in 0..pair[1].as_u64().unwrap() {
            out.extend_from_slice(&piece);
        }
    }
    out
}
