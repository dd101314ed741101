//! The publish hook: how the checker makes the target send an event, so that the delivery,
//! ordering, resume and injection cases can run.

use std::fmt;
use std::process::Stdio;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::{Method, Uri};
use tokio::io::AsyncReadExt;

use crate::client::{Client, HttpVersion};

/// The most bytes of a hook's answer the checker reads (it only looks for an id).
const MAX_ANSWER: usize = 64 << 10;

/// How to publish an event on the target.
#[derive(Clone, Debug)]
pub(crate) enum Publisher {
    /// An HTTP request; `{event}` and `{data}` in the body template are replaced by the
    /// event's type and data (see [`fill`]).
    Http {
        method: Method,
        /// An absolute URL, or a path (`/publish`) on each target's origin.
        url: String,
        template: String,
    },
    /// A shell command run with `SSE_EVENT`, `SSE_DATA` (absent when the data holds a NUL),
    /// `SSE_DATA_JSON` (the data as a JSON string) and `SSE_TARGET` in its environment; its
    /// standard output is a JSON answer with an `"id"`, or the id itself, or nothing.
    Command(String),
}

/// A failed publish.
#[derive(Debug)]
pub(crate) struct PublishError(pub(crate) String);

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the publish hook failed: {}", self.0)
    }
}

impl Publisher {
    /// Parses `METHOD URL [BODY TEMPLATE]`, as `--publish` takes it.
    pub(crate) fn parse_http(spec: &str) -> Result<Self, String> {
        let spec = spec.trim_start();
        let (method, rest) = spec
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("--publish {spec:?}: expected `METHOD URL [BODY]`"))?;
        let rest = rest.trim_start();
        let (url, template) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(url, body)| (url, body.trim()));
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("--publish: {method:?} is not an HTTP method"))?;
        let absolute = url.starts_with("http://") || url.starts_with("https://");
        if !absolute && !url.starts_with('/') {
            return Err(format!(
                "--publish: url {url:?} must be http://, https:// or a path such as /publish"
            ));
        }
        let uri: Uri = url
            .parse()
            .map_err(|err| format!("--publish: url {url:?}: {err}"))?;
        if absolute && uri.host().is_none() {
            return Err(format!("--publish: url {url:?} has no host"));
        }
        Ok(Self::Http {
            method,
            url: url.to_owned(),
            template: template.to_owned(),
        })
    }

    /// Publishes one event; returns the id the hook reported, if any (an `"id"` member of a
    /// JSON answer, or else the command's trimmed standard output).
    pub(crate) async fn publish(
        &self,
        client: &Client,
        target: &Uri,
        headers: &HeaderMap,
        event: &str,
        data: &str,
    ) -> Result<Option<String>, PublishError> {
        match self {
            Self::Http {
                method,
                url,
                template,
            } => {
                let uri = &resolve(url, target)?;
                let body = fill(template, event, data);
                let mut headers = headers.clone();
                headers
                    .entry(CONTENT_TYPE)
                    .or_insert(HeaderValue::from_static("application/json"));
                let response = client
                    .send(
                        method.clone(),
                        uri,
                        &headers,
                        Bytes::from(body),
                        HttpVersion::Http1,
                    )
                    .await
                    .map_err(|err| PublishError(format!("{method} {uri}: {err}")))?;
                let status = response.status;
                let deadline = tokio::time::Instant::now() + client.read_timeout();
                let answer = response
                    .read_to_end(MAX_ANSWER, deadline)
                    .await
                    .map_err(|err| {
                        PublishError(format!("{method} {uri}: reading the answer: {err}"))
                    })?;
                if !status.is_success() {
                    return Err(PublishError(format!(
                        "{method} {uri} answered {status}: {}",
                        String::from_utf8_lossy(&answer[..answer.len().min(200)])
                    )));
                }
                Ok(id_from_json(&answer))
            }
            Self::Command(command) => {
                let mut child = tokio::process::Command::new("sh");
                child
                    .arg("-c")
                    .arg(command)
                    .env("SSE_EVENT", event)
                    .env("SSE_DATA_JSON", fill("{data}", event, data))
                    .env("SSE_TARGET", target.to_string());
                // An environment variable can't hold a NUL: such data comes only as JSON.
                if !data.contains('\0') {
                    child.env("SSE_DATA", data);
                }
                let mut child = child
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|err| PublishError(format!("running `{command}`: {err}")))?;
                let mut stdout = child.stdout.take().expect("stdout is piped");
                let run = async {
                    let mut out = Vec::new();
                    (&mut stdout)
                        .take(MAX_ANSWER as u64)
                        .read_to_end(&mut out)
                        .await?;
                    Ok::<_, std::io::Error>((child.wait().await?, out))
                };
                let (status, out) = tokio::time::timeout(client.read_timeout(), run)
                    .await
                    .map_err(|_| PublishError(format!("`{command}` timed out")))?
                    .map_err(|err| PublishError(format!("running `{command}`: {err}")))?;
                if !status.success() {
                    return Err(PublishError(format!("`{command}` exited with {status}")));
                }
                if let Some(id) = id_from_json(&out) {
                    return Ok(Some(id));
                }
                let id = String::from_utf8_lossy(&out).trim().to_owned();
                Ok((!id.is_empty()).then_some(id))
            }
        }
    }
}

/// Replaces `{event}` with the event type escaped for the inside of a JSON string, and
/// `{data}` with the data as a whole JSON string (quotes included), in one pass, so that a
/// placeholder inside the data is never replaced again.
///
/// A template written as `{"event":"{event}","data":{data}}` thus stays valid JSON for any
/// data, including CR, LF and NUL.
pub(crate) fn fill(template: &str, event: &str, data: &str) -> String {
    let event = serde_json::to_string(event).expect("a string serializes");
    let event = &event[1..event.len() - 1];
    let data = serde_json::to_string(data).expect("a string serializes");
    let mut out = String::with_capacity(template.len() + data.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{event}") {
            out.push_str(event);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{data}") {
            out.push_str(&data);
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `url` itself when absolute, else the path on `target`'s origin.
fn resolve(url: &str, target: &Uri) -> Result<Uri, PublishError> {
    if !url.starts_with('/') {
        return url
            .parse()
            .map_err(|err| PublishError(format!("{url}: {err}")));
    }
    let scheme = target.scheme_str().unwrap_or("http");
    let authority = target.authority().map_or("", |a| a.as_str());
    format!("{scheme}://{authority}{url}")
        .parse()
        .map_err(|err| PublishError(format!("{url} on {target}: {err}")))
}

fn id_from_json(answer: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(answer).ok()?;
    match value.get("id")? {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_keeps_the_template_valid_json_for_hostile_data() {
        let body = fill(
            r#"{"event":"{event}","data":{data}}"#,
            "e\"v",
            "a\r\nb\0 {event} {data}",
        );
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["event"], "e\"v");
        assert_eq!(value["data"], "a\r\nb\0 {event} {data}");
    }

    #[test]
    fn parse_http_splits_method_url_and_template() {
        let Publisher::Http {
            method,
            url,
            template,
        } = Publisher::parse_http(r#"POST http://h:1/publish {"data":{data}}"#).unwrap()
        else {
            panic!("not http")
        };
        assert_eq!(method, Method::POST);
        assert_eq!(url, "http://h:1/publish");
        assert_eq!(template, r#"{"data":{data}}"#);
        assert!(Publisher::parse_http("POST").is_err());
        assert!(Publisher::parse_http("POST ftp://x/").is_err());
    }

    #[test]
    fn a_path_publishes_on_the_targets_origin() {
        let target: Uri = "https://svc:8443/events?topic=a".parse().unwrap();
        assert_eq!(
            resolve("/publish", &target).unwrap(),
            "https://svc:8443/publish"
        );
        assert_eq!(resolve("http://o/p", &target).unwrap(), "http://o/p");
    }

    #[test]
    fn ids_are_read_from_json_answers() {
        assert_eq!(id_from_json(br#"{"id":"7"}"#), Some("7".into()));
        assert_eq!(id_from_json(br#"{"id":7}"#), Some("7".into()));
        assert_eq!(id_from_json(b"accepted"), None);
    }
}
