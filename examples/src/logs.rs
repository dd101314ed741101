//! `GET /logs`: the lines of one file, named at start (`--log-file PATH`, never a path from
//! a request), as `log` events, and the lines that look like errors as `error` events.
//!
//! A [`LogTail`] follows the file the way `tail -F` does, without spawning it: the stream
//! checks the file every [`POLL_INTERVAL`] on a tokio interval, and
//!
//! - reads what was appended since, line by line (a line is sent once its `\n` is written);
//! - starts again from the top when the file shrinks (truncation);
//! - when the path names another file (rename rotation), reads the old file to its end
//!   first (its unfinished last line included), then follows the new one from its start;
//! - keeps at most [`MAX_LINE`] bytes of a line: a longer one is cut, ending with
//!   [`CUT_MARKER`], and the rest of it is skipped, never buffered;
//! - stops with the stream: it is polled by the connection that reads it, so it ends when
//!   the client leaves; there is no task of its own.
//!
//! Each event's id is `{file}-{offset}`: the file's identity (its inode) and the byte
//! offset after the line. A client that reconnects with it as `Last-Event-ID` goes on
//! right after that line if the file is the same and still that long; else (the file was
//! rotated or truncated) from the start of the current file. Without one, it starts with
//! the file's last lines (up to [`BACKLOG`] bytes). A truncation is seen as a file that
//! shrank: one truncated and then written past its old length between two checks, or while
//! a client was away, is taken for a file that grew (as `tail -F` would).
//!
//! Empty lines are skipped; invalid UTF-8 is replaced (U+FFFD).
//!
//! # Example
//!
//! ```
//! use futures_util::StreamExt;
//! use sse_examples::logs::LogTail;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let dir = std::env::temp_dir().join(format!("logtail-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("app.log");
//! std::fs::write(&path, "started\nERROR disk full\n")?;
//!
//! let tail = LogTail::open(&path)?;
//! let mut events = std::pin::pin!(tail.events(None));
//! let first = events.next().await.unwrap();
//! assert!(first.as_bytes().starts_with(b"event: log\nid: "));
//! assert!(first.as_bytes().ends_with(b"data: started\n\n"));
//! let second = events.next().await.unwrap();
//! assert!(second.as_bytes().starts_with(b"event: error\n"));
//! # std::fs::remove_dir_all(&dir)
//! # }
//! ```

use std::collections::VecDeque;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{stream, Stream};
use sse_core::Event;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How often the file is checked for appends, truncation and rotation.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The most bytes of one line that are sent; the rest of a longer line is skipped.
pub const MAX_LINE: usize = 4096;

/// What a cut line ends with.
pub const CUT_MARKER: &str = " [line cut]";

/// How much of the file's end a client without a Last-Event-ID starts with.
pub const BACKLOG: u64 = 8 * 1024;

/// The most bytes read in one go (each client's read buffer): a large backlog is sent in
/// several chunks, the events of each chunk before the next is read.
const READ_CHUNK: usize = 16 * 1024;

/// The log file `GET /logs` follows. Cheap to clone. See the [module docs](self) for an
/// example.
#[derive(Clone, Debug)]
pub struct LogTail {
    path: PathBuf,
}

impl LogTail {
    /// Checks that `path` is a regular file this process can read, and follows it.
    ///
    /// # Errors
    ///
    /// An error of kind [`io::ErrorKind::InvalidInput`] whose message names the path and the
    /// cause, if it can't be opened or is not a regular file.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        let invalid = |cause: &dyn std::fmt::Display| {
            crate::invalid_flag(format!("--log-file {}: {cause}", path.display()))
        };
        let file = std::fs::File::open(&path).map_err(|err| invalid(&err))?;
        let meta = file.metadata().map_err(|err| invalid(&err))?;
        if !meta.is_file() {
            return Err(invalid(&"not a regular file"));
        }
        Ok(Self { path })
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The events of the file's lines, after `last_event_id` (a `{file}-{offset}` id this
    /// stream sent) if given, else from the file's last lines. It never ends by itself.
    pub fn events(&self, last_event_id: Option<&str>) -> impl Stream<Item = Event> + Send {
        let resume = last_event_id.and_then(parse_id);
        let follower = Follower::new(self.path.clone(), resume);
        stream::unfold(follower, |mut follower| async move {
            loop {
                if let Some(event) = follower.ready.pop_front() {
                    return Some((event, follower));
                }
                follower.step().await;
            }
        })
    }
}

/// Where a resuming client was: the file's identity and the offset after its last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    file: u64,
    offset: u64,
}

fn parse_id(id: &str) -> Option<Position> {
    let (file, offset) = id.split_once('-')?;
    Some(Position {
        file: file.parse().ok()?,
        offset: offset.parse().ok()?,
    })
}

/// The identity of a file: its inode, which a rename keeps and a new file doesn't share.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

/// Without inodes, rotation is seen only as a file that shrank.
#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> u64 {
    0
}

/// The file being read.
struct Current {
    file: File,
    identity: u64,
    /// The offset of the next byte to read.
    offset: u64,
    /// The path names another file now: this one is read to its end, then left.
    rotated: bool,
}

/// One client's reading state: no task, polled by its connection.
struct Follower {
    path: PathBuf,
    /// Where the first file opened starts; `None` after the first open.
    resume: Option<Option<Position>>,
    current: Option<Current>,
    interval: Option<tokio::time::Interval>,
    /// The line read so far (at most `MAX_LINE` bytes of it).
    line: Vec<u8>,
    /// Whether the line in `line` was cut: its bytes past `MAX_LINE` are skipped.
    cut: bool,
    ready: VecDeque<Event>,
    buf: Box<[u8]>,
}

impl Follower {
    fn new(path: PathBuf, resume: Option<Position>) -> Self {
        Self {
            path,
            resume: Some(resume),
            current: None,
            interval: None,
            line: Vec::new(),
            cut: false,
            ready: VecDeque::new(),
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// One step: reads what there is to read now, or waits for the next check.
    async fn step(&mut self) {
        match self.read_some().await {
            Ok(true) => {}
            Ok(false) => self.tick().await,
            Err(err) => {
                // The file vanished or failed mid-read: try the path again at the next
                // check (a rotation in progress), not in a loop.
                tracing::debug!(path = %self.path.display(), error = %err, "log file read failed");
                self.close_current();
                self.tick().await;
            }
        }
    }

    async fn tick(&mut self) {
        let interval = self.interval.get_or_insert_with(|| {
            let mut interval = tokio::time::interval(POLL_INTERVAL);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        interval.tick().await;
    }

    /// Reads one chunk if there is one; `Ok(false)` when there is nothing new.
    async fn read_some(&mut self) -> io::Result<bool> {
        let Some(current) = &mut self.current else {
            return self.open_path().await;
        };
        let (held, start) = (current.identity, current.offset);
        let n = current.file.read(&mut self.buf).await?;
        if n > 0 {
            current.offset += n as u64;
            self.take_lines(held, start, n);
            return Ok(true);
        }
        // At the end of the file we hold: has it shrunk, or does the path name another?
        let len = current.file.metadata().await?.len();
        if len < start {
            tracing::debug!(path = %self.path.display(), "log file truncated: from the start");
            current.file.seek(SeekFrom::Start(0)).await?;
            current.offset = 0;
            self.line.clear();
            self.cut = false;
            return Ok(true);
        }
        if current.rotated {
            // Read to its end since the rotation was seen: its last line is finished.
            self.flush_line(held, start);
            self.close_current();
            return self.open_path().await;
        }
        let at_path = tokio::fs::metadata(&self.path).await.ok();
        if at_path.is_some_and(|meta| identity(&meta) != held) {
            // Rotated. What was written to the old file before the new one appeared may
            // have come after the read above: read it to its end once more first.
            current.rotated = true;
            return Ok(true);
        }
        Ok(false)
    }

    /// Opens the file the path names now, at the resume position for the first one.
    async fn open_path(&mut self) -> io::Result<bool> {
        let Ok(mut file) = File::open(&self.path).await else {
            // Between a rename and the new file's creation.
            return Ok(false);
        };
        let meta = file.metadata().await?;
        let identity = identity(&meta);
        let offset = match self.resume.take() {
            // The first file of a client that comes back to the same file, still as long.
            Some(Some(at)) if at.file == identity && at.offset <= meta.len() => at.offset,
            // A rotated or truncated file: every line of the current one is new to it.
            Some(Some(_)) => 0,
            Some(None) => backlog_start(&mut file, meta.len()).await?,
            // A file that took the place of the one just finished.
            None => 0,
        };
        file.seek(SeekFrom::Start(offset)).await?;
        self.current = Some(Current {
            file,
            identity,
            offset,
            rotated: false,
        });
        Ok(true)
    }

    fn close_current(&mut self) {
        self.current = None;
        self.line.clear();
        self.cut = false;
    }

    /// Splits the `n` bytes read at `start` into lines, queueing an event for each whole
    /// one and keeping the unfinished rest (at most `MAX_LINE` bytes of it).
    fn take_lines(&mut self, identity: u64, start: u64, n: usize) {
        let mut pos = 0;
        while pos < n {
            let rest = &self.buf[pos..n];
            let (piece, end) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], Some(i)),
                None => (rest, None),
            };
            let room = MAX_LINE.saturating_sub(self.line.len());
            if piece.len() > room {
                self.cut = true;
            }
            self.line.extend_from_slice(&piece[..piece.len().min(room)]);
            match end {
                Some(i) => {
                    pos += i + 1;
                    self.flush_line(identity, start + pos as u64);
                }
                None => pos = n,
            }
        }
    }

    /// Queues the line read so far as an event whose id is `{identity}-{offset}`.
    fn flush_line(&mut self, identity: u64, offset: u64) {
        if self.line.is_empty() && !self.cut {
            return;
        }
        let mut text = if self.cut {
            // Drop a character the cut split in two, so the marker follows whole ones.
            let keep = match std::str::from_utf8(&self.line) {
                Err(err) if err.error_len().is_none() => err.valid_up_to(),
                _ => self.line.len(),
            };
            let mut text = String::from_utf8_lossy(&self.line[..keep]).into_owned();
            text.push_str(CUT_MARKER);
            text
        } else {
            String::from_utf8_lossy(&self.line).into_owned()
        };
        if text.ends_with('\r') {
            text.pop();
        }
        self.line.clear();
        self.cut = false;
        let name = if looks_like_error(&text) {
            "error"
        } else {
            "log"
        };
        let event = Event::builder()
            .event(name)
            .id(format!("{identity}-{offset}"))
            .data(text)
            .build();
        match event {
            Ok(event) => self.ready.push_back(event),
            // Unreachable with these names and a numeric id; skip the line rather than panic.
            Err(err) => tracing::warn!(error = %err, "log line not sent"),
        }
    }
}

/// Where a client without a Last-Event-ID starts: the start of the first whole line of the
/// file's last [`BACKLOG`] bytes.
async fn backlog_start(file: &mut File, len: u64) -> io::Result<u64> {
    if len <= BACKLOG {
        return Ok(0);
    }
    let from = len - BACKLOG;
    // The byte before `from` tells whether `from` starts a line.
    file.seek(SeekFrom::Start(from - 1)).await?;
    let mut tail = Vec::with_capacity(usize::try_from(BACKLOG).unwrap_or(0) + 1);
    file.take(BACKLOG + 1).read_to_end(&mut tail).await?;
    Ok(match memchr::memchr(b'\n', &tail) {
        Some(i) => from - 1 + i as u64 + 1,
        None => len,
    })
}

/// Whether a line looks like an error: `error`, `panic` or `panicked` as a whole word, in
/// any case (`ERROR`, `Error:`, `panic!`, Rust's `thread 'main' panicked at`), but not
/// `errors` or `no_error`.
///
/// ```
/// use sse_examples::logs::looks_like_error;
///
/// assert!(looks_like_error("2026-12-02T12:00:00Z ERROR disk full"));
/// assert!(!looks_like_error("0 errors"));
/// ```
pub fn looks_like_error(line: &str) -> bool {
    line.split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|word| {
            ["error", "panic", "panicked"]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_words_at_word_boundaries() {
        assert!(looks_like_error("2024-01-01 ERROR disk full"));
        assert!(looks_like_error("error: no such file"));
        assert!(looks_like_error("[Error] x"));
        assert!(looks_like_error("panic!(\"boom\")"));
        assert!(!looks_like_error("errors are counted"));
        assert!(!looks_like_error("no_error_here"));
        assert!(looks_like_error(
            "thread 'main' panicked at src/main.rs:2:5"
        ));
        assert!(!looks_like_error("all fine"));
    }

    #[test]
    fn ids_are_file_and_offset() {
        assert_eq!(
            parse_id("42-100"),
            Some(Position {
                file: 42,
                offset: 100
            })
        );
        assert_eq!(parse_id("42"), None);
        assert_eq!(parse_id("x-1"), None);
        assert_eq!(parse_id("1-"), None);
    }
}
