//! Arbitrary bytes in arbitrary chunks: the decoder must not panic, and every chunking of
//! the same bytes must give the same frames (or the same error at the same point).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sse_core::parse::{Decoder, Frame};

/// Frames of one body, then whether it ended in an error (which stops the body).
fn run(decoder: &mut Decoder, chunks: &[&[u8]]) -> (Vec<Frame>, bool) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => return (frames, false),
            Err(_) => return (frames, true),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    // The first two bytes pick the limits (small, so they are hit) and the chunk sizes.
    let [line_limit, seed, data @ ..] = input else {
        return;
    };
    let new_decoder =
        || Decoder::with_limits(usize::from(*line_limit) + 1, 64 + usize::from(*seed));

    let mut decoder = new_decoder();
    let whole = run(&mut decoder, &[data]);

    // Chunk sizes from 1 to 16, driven by the data and the seed.
    let mut chunks = Vec::new();
    let mut rest = data;
    let mut state = u32::from(*seed);
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = (((state >> 16) % 16) as usize + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(len);
        chunks.push(chunk);
        rest = tail;
    }
    let mut chunked_decoder = new_decoder();
    let chunked = run(&mut chunked_decoder, &chunks);
    assert_eq!(whole, chunked, "chunking changed the frames");

    let bytewise: Vec<&[u8]> = data.chunks(1).collect();
    let mut bytewise_decoder = new_decoder();
    assert_eq!(
        whole,
        run(&mut bytewise_decoder, &bytewise),
        "byte-at-a-time changed the frames"
    );

    if !whole.1 {
        assert_eq!(decoder.last_event_id(), chunked_decoder.last_event_id());
        assert_eq!(decoder.retry(), chunked_decoder.retry());
    }
});
