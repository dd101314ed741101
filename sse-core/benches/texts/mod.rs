//! The texts the encode bench and `examples/encode_events.rs` build events from.

/// 100 bytes of JSON.
pub(crate) fn json_100() -> String {
    let json = r#"{"user":"ada","action":"update","resource":"doc/42","rev":17,"ok":true,"tags":["a","b"],"n":123}"#;
    let padded = format!("{json:<100}");
    assert_eq!(padded.len(), 100);
    padded
}

/// `len` bytes of text in lines of `line_len` bytes (the last may be shorter), each ended by
/// LF.
pub(crate) fn text_in_lines(len: usize, line_len: usize) -> String {
    let words = "a line of log output, say, with some words in it";
    let width = line_len.max(1) - 1;
    let line = format!("{:<width$}\n", &words[..width.min(words.len())]);
    let mut text = line.repeat(len.div_ceil(line.len()));
    text.truncate(len);
    text
}
