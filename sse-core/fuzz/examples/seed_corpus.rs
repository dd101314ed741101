//! Writes the fuzz targets' seed inputs from the WHATWG conformance vectors
//! (`sse-core/tests/data/cases.json`): every HTTP body of every case for `decoder`, its
//! event data and ids for `roundtrip`, and its ids for `last_event_id` and `hub_id`.
//! `scripts/fuzz` runs it before a campaign; the files are named after the case, so running
//! it again rewrites the same seeds.
//!
//! ```text
//! cargo run --manifest-path sse-core/fuzz/Cargo.toml --example seed_corpus
//! ```

use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;

#[path = "../../tests/vectors/mod.rs"]
mod vectors;

use vectors::{repeated, unescape};

/// Seeds longer than this are cut: libFuzzer mutates short inputs best, and the few long
/// vectors (a megabyte line) test a limit, which the fuzzer reaches with small limits.
/// (The vectors are our own file: a malformed one panics, as in `tests/conformance.rs`.)
const MAX_SEED: usize = 8 * 1024;

/// Event data longer than this is cut in the `roundtrip` seeds.
const MAX_ROUNDTRIP_DATA: usize = 512;

fn main() -> io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(root.join("../tests/data/cases.json"))?;
    let vectors: Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    let cases = vectors["cases"].as_array().ok_or_else(|| bad("no cases"))?;
    let seeds = root.join("seeds");
    let mut written = 0;
    for case in cases {
        let n = case["n"].as_u64().ok_or_else(|| bad("a case without n"))?;
        let mut ids = Vec::new();
        for (c, connection) in case["connections"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let mut body = Vec::new();
            for chunk in connection.as_array().into_iter().flatten() {
                body.extend(repeated(chunk, unescape));
            }
            body.truncate(MAX_SEED);
            // The decoder target reads its limits from the first two bytes: the largest.
            let input = [&[u8::MAX, u8::MAX][..], &body].concat();
            write(
                &seeds.join("decoder"),
                &format!("vector-{n:03}-{c}"),
                &input,
            )?;
            written += 1;
        }
        let events = case["expected"].as_array().into_iter().flatten();
        // A few events per case: some cases yield thousands of alike events.
        for (e, effect) in events
            .filter(|effect| effect["kind"] == "event")
            .take(3)
            .enumerate()
        {
            let mut data = repeated(&effect["data"], |t| t.as_bytes().to_vec());
            data.truncate(MAX_ROUNDTRIP_DATA);
            let id = effect["last_event_id"].as_str().unwrap_or_default();
            let name = effect["type"].as_str().unwrap_or_default();
            // `arbitrary` splits the input into the three strings its own way; the texts of
            // the vectors are a start for the mutations, not an exact (name, id, data).
            let input = [name.as_bytes(), id.as_bytes(), &data].concat();
            write(
                &seeds.join("roundtrip"),
                &format!("vector-{n:03}-{e}"),
                &input,
            )?;
            ids.push(id.to_owned());
            written += 1;
        }
        for header in case["reconnect_last_event_id_headers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            ids.extend(header.as_str().map(str::to_owned));
        }
        ids.sort();
        ids.dedup();
        for (i, id) in ids.iter().enumerate() {
            write(
                &seeds.join("last_event_id"),
                &format!("vector-{n:03}-{i}"),
                id.as_bytes(),
            )?;
            written += 1;
        }
    }
    // Hub ids: (capacity, published, pick, id) with ids in the hub's own shape.
    for (i, id) in [
        "1-0",
        "1764300000000-3",
        "0-18446744073709551615",
        "00-1",
        "1-2-3",
        "x",
    ]
    .iter()
    .enumerate()
    {
        let input = [&[8, 20, u8::try_from(i).unwrap_or(0)][..], id.as_bytes()].concat();
        write(&seeds.join("hub_id"), &format!("seed-{i}"), &input)?;
        written += 1;
    }
    println!("wrote {written} seeds under {}", seeds.display());
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join(name), bytes)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("cases.json: {what}"))
}
