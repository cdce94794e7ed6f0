//! A message-log page's body: one charger's exchanges of one batch, oldest first, as
//! length-prefixed text. A header line holds the page's base time; each exchange is one line of
//! numbers and letters followed by its action, message id and frames verbatim. Writing a flood
//! is then a copy per frame. Under a heartbeat flood the JSON array this replaced spent the
//! log writer's time escaping frames that were JSON already and formatting dates, and stored
//! twice the bytes. The body stays text, as the column is. Pages written before hold that
//! JSON array; both read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::values::{FrameKind, MessageDirection};
use serde::Deserialize;

use super::NewMessage;

/// Starts a length-prefixed body; a JSON one starts with `[`.
const TAG: &str = "v2 ";
/// Stands for an absent value in an exchange's line.
const NONE: &str = "-";
/// An exchange's line at most, beside its texts: ten numbers and a space each.
const LINE: usize = 10 * 21;

/// Why a page's body cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable message log page: {0}")]
pub(super) struct Unreadable(String);

fn unreadable(why: impl Into<String>) -> Unreadable {
    Unreadable(why.into())
}

/// `exchanges` (one charger's, oldest first) as a page's body, their times as offsets from
/// `base` (the page's first time; any works, offsets are signed). Times keep microseconds.
pub(super) fn encode(base: DateTime<Utc>, exchanges: &[&NewMessage]) -> String {
    let base = base.timestamp_micros();
    let texts: usize = exchanges
        .iter()
        .map(|m| LINE + m.request.len() + len(&m.action) + len(&m.message_id) + len(&m.response))
        .sum();
    let mut body = String::with_capacity(TAG.len() + 21 + texts);
    let mut num = itoa::Buffer::new();
    body.push_str(TAG);
    body.push_str(num.format(base));
    body.push('\n');
    for m in exchanges {
        let at = m.at.timestamp_micros();
        body.push_str(num.format(at - base));
        body.push(' ');
        body.push(match m.direction {
            MessageDirection::In => 'i',
            MessageDirection::Out => 'o',
        });
        body.push(match m.response_type {
            None => '-',
            Some(FrameKind::CallResult) => 'r',
            Some(FrameKind::CallError) => 'e',
            Some(FrameKind::Timeout) => 't',
        });
        push(&mut body, &mut num, m.responded_at.map(|t| t.timestamp_micros() - at));
        push(&mut body, &mut num, Some(m.request_size));
        push(&mut body, &mut num, m.response_size);
        push(&mut body, &mut num, m.action.as_ref().map(String::len));
        push(&mut body, &mut num, m.message_id.as_ref().map(String::len));
        push(&mut body, &mut num, Some(m.request.len()));
        push(&mut body, &mut num, m.response.as_ref().map(String::len));
        body.push('\n');
        for text in [
            m.action.as_deref(),
            m.message_id.as_deref(),
            Some(m.request.as_str()),
            m.response.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            body.push_str(text);
        }
    }
    body
}

fn len(text: &Option<String>) -> usize {
    text.as_ref().map_or(0, String::len)
}

fn push(body: &mut String, num: &mut itoa::Buffer, value: Option<impl itoa::Integer>) {
    body.push(' ');
    match value {
        Some(v) => body.push_str(num.format(v)),
        None => body.push_str(NONE),
    }
}

/// A page's exchanges, oldest first, each given `charger_id`.
pub(super) fn decode(body: &str, charger_id: &str) -> Result<Vec<NewMessage>, Unreadable> {
    let charger_id: Arc<str> = charger_id.into();
    if body.starts_with('[') {
        let packed: Vec<Packed> = serde_json::from_str(body).map_err(|e| unreadable(e.to_string()))?;
        return Ok(packed.into_iter().map(|p| p.unpack(&charger_id)).collect());
    }
    let rest = body.strip_prefix(TAG).ok_or_else(|| unreadable("unknown format"))?;
    let mut cursor = Cursor { rest };
    let base: i64 = number(cursor.line()?)?;
    let mut exchanges = Vec::new();
    while !cursor.rest.is_empty() {
        exchanges.push(cursor.exchange(base, &charger_id)?);
    }
    Ok(exchanges)
}

/// What is left of a body being read.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn line(&mut self) -> Result<&str, Unreadable> {
        let (line, rest) = self.rest.split_once('\n').ok_or_else(|| unreadable("line not ended"))?;
        self.rest = rest;
        Ok(line)
    }

    /// The next `len` bytes as a text, when there is one.
    fn text(&mut self, len: Option<usize>) -> Result<Option<String>, Unreadable> {
        let Some(len) = len else {
            return Ok(None);
        };
        let text = self.rest.get(..len).ok_or_else(|| unreadable("text cut short"))?;
        self.rest = &self.rest[len..];
        Ok(Some(text.to_owned()))
    }

    fn exchange(&mut self, base: i64, charger_id: &Arc<str>) -> Result<NewMessage, Unreadable> {
        let line = self.line()?;
        let mut fields = line.split(' ');
        let mut field = || fields.next().ok_or_else(|| unreadable("exchange line cut short"));
        let at = offset(base, number(field()?)?)?;
        let (direction, response_type) = match field()?.as_bytes() {
            [d, k] => (direction(*d)?, kind(*k)?),
            _ => return Err(unreadable("direction and answer")),
        };
        let responded_after: Option<i64> = maybe(field()?)?;
        let request_size = number(field()?)?;
        let response_size = maybe(field()?)?;
        let lens: [Option<usize>; 4] = [maybe(field()?)?, maybe(field()?)?, maybe(field()?)?, maybe(field()?)?];
        let [action, message_id, request, response] = lens.map(|len| self.text(len));
        Ok(NewMessage {
            charger_id: Arc::clone(charger_id),
            at: time(at)?,
            direction,
            action: action?,
            message_id: message_id?,
            request: request?.unwrap_or_default(),
            request_size,
            response_type,
            response: response?,
            response_size,
            responded_at: responded_after
                .map(|after| offset(at, after).and_then(time))
                .transpose()?,
        })
    }
}

fn number<T: std::str::FromStr>(field: &str) -> Result<T, Unreadable> {
    field
        .parse()
        .map_err(|_| unreadable(format!("not a number: {field:?}")))
}

fn maybe<T: std::str::FromStr>(field: &str) -> Result<Option<T>, Unreadable> {
    if field == NONE {
        Ok(None)
    } else {
        number(field).map(Some)
    }
}

fn offset(base: i64, by: i64) -> Result<i64, Unreadable> {
    base.checked_add(by).ok_or_else(|| unreadable("time out of range"))
}

fn time(micros: i64) -> Result<DateTime<Utc>, Unreadable> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| unreadable("time out of range"))
}

fn direction(letter: u8) -> Result<MessageDirection, Unreadable> {
    match letter {
        b'i' => Ok(MessageDirection::In),
        b'o' => Ok(MessageDirection::Out),
        _ => Err(unreadable("direction")),
    }
}

fn kind(letter: u8) -> Result<Option<FrameKind>, Unreadable> {
    match letter {
        b'-' => Ok(None),
        b'r' => Ok(Some(FrameKind::CallResult)),
        b'e' => Ok(Some(FrameKind::CallError)),
        b't' => Ok(Some(FrameKind::Timeout)),
        _ => Err(unreadable("answer kind")),
    }
}

/// One exchange of a page written as a JSON array (before the length-prefixed format).
#[derive(Debug, Deserialize)]
struct Packed {
    #[serde(rename = "t")]
    at: DateTime<Utc>,
    #[serde(rename = "d")]
    direction: MessageDirection,
    #[serde(rename = "a", default)]
    action: Option<String>,
    #[serde(rename = "m", default)]
    message_id: Option<String>,
    #[serde(rename = "q")]
    request: String,
    #[serde(rename = "qs")]
    request_size: i32,
    #[serde(rename = "k", default)]
    response_type: Option<FrameKind>,
    #[serde(rename = "r", default)]
    response: Option<String>,
    #[serde(rename = "rs", default)]
    response_size: Option<i32>,
    #[serde(rename = "rt", default)]
    responded_at: Option<DateTime<Utc>>,
}

impl Packed {
    fn unpack(self, charger_id: &Arc<str>) -> NewMessage {
        NewMessage {
            charger_id: Arc::clone(charger_id),
            at: self.at,
            direction: self.direction,
            action: self.action,
            message_id: self.message_id,
            request: self.request,
            request_size: self.request_size,
            response_type: self.response_type,
            response: self.response,
            response_size: self.response_size,
            responded_at: self.responded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(
        at_us: i64,
        action: Option<&str>,
        request: &str,
        response: Option<(FrameKind, Option<&str>)>,
    ) -> NewMessage {
        let at = DateTime::from_timestamp_micros(at_us).unwrap();
        NewMessage {
            charger_id: "CP-1".into(),
            at,
            direction: if at_us % 2 == 0 {
                MessageDirection::In
            } else {
                MessageDirection::Out
            },
            action: action.map(str::to_owned),
            message_id: action.map(|_| format!("m{at_us}")),
            request: request.to_owned(),
            request_size: i32::try_from(request.len()).unwrap() + 7,
            response_type: response.map(|(k, _)| k),
            response: response.and_then(|(_, text)| text.map(str::to_owned)),
            response_size: response.and_then(|(_, text)| text.map(|t| i32::try_from(t.len()).unwrap())),
            responded_at: response.map(|_| at + chrono::Duration::microseconds(1_250)),
        }
    }

    fn same(a: &NewMessage, b: &NewMessage) {
        assert_eq!(
            (
                &a.charger_id,
                a.at,
                a.direction,
                &a.action,
                &a.message_id,
                &a.request,
                a.request_size
            ),
            (
                &b.charger_id,
                b.at,
                b.direction,
                &b.action,
                &b.message_id,
                &b.request,
                b.request_size
            )
        );
        assert_eq!(
            (a.response_type, &a.response, a.response_size, a.responded_at),
            (b.response_type, &b.response, b.response_size, b.responded_at)
        );
    }

    #[test]
    fn every_shape_of_exchange_reads_back_as_written() {
        let t = 1_796_637_072_123_456;
        let written = [
            exchange(
                t + 4,
                Some("Heartbeat"),
                r#"[2,"1","Heartbeat",{}]"#,
                Some((
                    FrameKind::CallResult,
                    Some(r#"[3,"1",{"currentTime":"2026-12-07T10:00:00Z"}]"#),
                )),
            ),
            // Older than the first: an outgoing CALL is logged when its answer comes.
            exchange(
                t - 3_000_000,
                Some("Reset"),
                r#"[2,"vg1","Reset",{"type":"Hard"}]"#,
                Some((FrameKind::Timeout, None)),
            ),
            exchange(t + 9, None, "not json\nat all, with - and spaces ", None),
            exchange(
                t + 10,
                Some(""),
                "",
                Some((FrameKind::CallError, Some("[4,\"x\",\"GenericError\",\"é ü 漢字\",{}]"))),
            ),
            exchange(
                t + 11,
                Some("DataTransfer"),
                "[2,\"2\",\"DataTransfer\",{\"data\":\"line\\nbreak 3 - 4\"}]\n",
                None,
            ),
        ];
        let body = encode(written[1].at, &written.iter().collect::<Vec<_>>());
        let read = decode(&body, "CP-1").unwrap();
        assert_eq!(read.len(), written.len());
        for (a, b) in written.iter().zip(&read) {
            same(a, b);
        }
        assert!(decode(&encode(Utc::now(), &[]), "CP-1").unwrap().is_empty());
    }

    #[test]
    fn frames_are_stored_verbatim_not_escaped() {
        let m = exchange(8, Some("Heartbeat"), r#"[2,"1","Heartbeat",{}]"#, None);
        assert!(encode(m.at, &[&m]).ends_with(r#"Heartbeatm8[2,"1","Heartbeat",{}]"#));
    }

    #[test]
    fn a_page_written_as_json_still_reads() {
        let body = r#"[{"t":"2026-12-01T10:00:00.5Z","d":"in","a":"Heartbeat","m":"7","q":"[2,\"7\",\"Heartbeat\",{}]","qs":22,"k":"CallResult","r":"[3,\"7\",{}]","rs":10,"rt":"2026-12-01T10:00:00.6Z"},{"t":"2026-12-01T10:00:01Z","d":"out","q":"x","qs":1}]"#;
        let read = decode(body, "CP-9").unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].request, r#"[2,"7","Heartbeat",{}]"#);
        assert_eq!(read[0].response_type, Some(FrameKind::CallResult));
        assert_eq!(read[1].direction, MessageDirection::Out);
        assert_eq!((&*read[1].charger_id, read[1].response.as_deref()), ("CP-9", None));
    }

    #[test]
    fn a_damaged_page_is_refused_not_misread() {
        let m = exchange(
            2,
            Some("Heartbeat"),
            r#"[2,"1","Heartbeat",{}]"#,
            Some((FrameKind::CallResult, Some("[3,\"1\",{}]"))),
        );
        let body = encode(m.at, &[&m]);
        for cut in 1..body.len() {
            // Cut right after the header it is an empty page; anywhere else it is refused.
            if body.is_char_boundary(cut) {
                assert!(
                    decode(&body[..cut], "CP-1").map_or(true, |read| read.is_empty()),
                    "{:?}",
                    &body[..cut]
                );
            }
        }
        for bad in ["", "v3 0\n", "v2 x\n", "v2 0\n0 ix - 1 - - - 0 -\n", "{\"t\":1}"] {
            assert!(decode(bad, "CP-1").is_err(), "{bad:?}");
        }
    }
}
