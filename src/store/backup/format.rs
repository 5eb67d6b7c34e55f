//! Writing and reading a backup's JSON stream: the header, each tree's entries, values
//! as `json` or `hex`, and the streaming reader [`read_through`].

use std::io::{BufReader, Read, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::store::{
    Collection, OLDEST_SCHEMA_VERSION, SCHEMA_VERSION, Store, StoreError, StoreResult,
};

use super::{BACKUP_FORMAT, BackupHeader, BackupItem, ExportSummary, invalid, unhex};

/// An export's failure: the store's, or the output's.
pub(super) enum ExportError {
    Store(StoreError),
    Io(std::io::Error),
}

impl From<StoreError> for ExportError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// Writes every non-empty collection of `store`, tree by tree in name order, each page
/// by page (see [`export_to`]).
pub(super) fn write_export(
    store: &Store,
    out: &mut impl Write,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    let header = BackupHeader {
        schema_version: SCHEMA_VERSION,
        exported_at: Utc::now(),
        studybot_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    write_header(out, &header)?;
    let mut names = store.backend().tree_names()?;
    names.sort();
    let mut first_tree = true;
    for name in names {
        if Collection::named(&name).is_none() {
            let entries = store.count_entries(&name)?;
            if entries > 0 {
                summary.skipped.push((name, entries));
            }
            continue;
        }
        let mut written = 0;
        store.each_entry::<ExportError>(&name, &[], None, |key, value| {
            if written == 0 {
                write_tree_start(out, &name, first_tree)?;
                first_tree = false;
            }
            write_entry(out, key, value, written == 0)?;
            crate::progress::advance(1);
            written += 1;
            Ok(())
        })?;
        if written > 0 {
            write_tree_end(out)?;
            summary.trees += 1;
            summary.entries += written;
        }
    }
    write_end(out, first_tree)?;
    Ok(())
}

pub(super) fn write_header(out: &mut impl Write, header: &BackupHeader) -> std::io::Result<()> {
    write!(
        out,
        "{{\n  \"format\": \"{BACKUP_FORMAT}\",\n  \"schema_version\": {},\n  \"exported_at\": \"{}\",\n  \"studybot_version\": {},\n  \"trees\": {{",
        header.schema_version,
        header
            .exported_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        serde_json::Value::from(header.studybot_version.as_str())
    )
}

pub(super) fn write_tree_start(
    out: &mut impl Write,
    name: &str,
    first: bool,
) -> std::io::Result<()> {
    let separator = if first { "" } else { "," };
    write!(out, "{separator}\n    {}: [", serde_json::Value::from(name))
}

/// One entry on its own line: `{"key": "<hex>", "value": {"json": <the value>}}`, or
/// `{"hex": "<hex>"}` for a value that is not exactly a JSON text (so that reading it
/// back yields the same bytes).
pub(super) fn write_entry(
    out: &mut impl Write,
    key: &[u8],
    value: &[u8],
    first: bool,
) -> std::io::Result<()> {
    let separator = if first { "" } else { "," };
    write!(out, "{separator}\n      {{\"key\": \"")?;
    write_hex(out, key)?;
    match serde_json::from_slice::<&RawValue>(value) {
        Ok(raw) if raw.get().as_bytes() == value => {
            out.write_all(b"\", \"value\": {\"json\": ")?;
            out.write_all(value)?;
            out.write_all(b"}}")
        }
        _ => {
            out.write_all(b"\", \"value\": {\"hex\": \"")?;
            write_hex(out, value)?;
            out.write_all(b"\"}}")
        }
    }
}

pub(super) fn write_tree_end(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"\n    ]")
}

pub(super) fn write_end(out: &mut impl Write, no_trees: bool) -> std::io::Result<()> {
    match no_trees {
        true => out.write_all(b"}\n}\n"),
        false => out.write_all(b"\n  }\n}\n"),
    }
}

pub(super) fn write_hex(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buffer = [0; 128];
    for chunk in bytes.chunks(64) {
        for (i, byte) in chunk.iter().enumerate() {
            buffer[2 * i] = DIGITS[usize::from(byte >> 4)];
            buffer[2 * i + 1] = DIGITS[usize::from(byte & 15)];
        }
        out.write_all(&buffer[..2 * chunk.len()])?;
    }
    Ok(())
}

/// Parses a backup from `reader`, handing `visit` its header (checked: a studybot backup
/// of a layout this build reads) and then each tree and entry in file order, without
/// holding more than one entry. Returns the header. An error of `visit` stops the
/// reading and is returned as it is. This checks the file's syntax only; [`verify`]
/// checks its records.
pub fn read_through(
    reader: impl Read,
    mut visit: impl FnMut(BackupItem<'_>) -> StoreResult<()>,
) -> StoreResult<BackupHeader> {
    let mut state = Reading {
        visit: &mut visit,
        stopped: None,
        header: None,
    };
    let mut deserializer =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(256 * 1024, reader));
    let parsed = Top { state: &mut state }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(error) = state.stopped {
        return Err(error);
    }
    match (parsed, state.header) {
        (Ok(()), Some(header)) => Ok(header),
        (Ok(()), None) => Err(invalid("the backup has no \"trees\"".into())),
        (Err(error), None) => Err(invalid(format!("not a studybot backup ({error})"))),
        (Err(error), Some(_)) => Err(invalid(format!(
            "damaged backup: {error}; nothing was imported"
        ))),
    }
}

/// The parser's state: the caller's visitor, the error that stopped it, the header once
/// read.
pub(super) struct Reading<'v> {
    visit: &'v mut dyn FnMut(BackupItem<'_>) -> StoreResult<()>,
    stopped: Option<StoreError>,
    header: Option<BackupHeader>,
}

impl Reading<'_> {
    /// Hands `item` to the visitor; its error stops the parse (and is kept, to be
    /// returned as it is rather than as a syntax error).
    fn visit<E: serde::de::Error>(&mut self, item: BackupItem<'_>) -> Result<(), E> {
        (self.visit)(item).map_err(|error| self.stop(error))
    }

    fn stop<E: serde::de::Error>(&mut self, error: StoreError) -> E {
        self.stopped = Some(error);
        E::custom("stopped")
    }
}

/// The top-level object: the header fields, then `trees`.
pub(super) struct Top<'s, 'v> {
    state: &'s mut Reading<'v>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a studybot backup (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format: Option<String> = None;
        let mut version: Option<u32> = None;
        let mut exported_at: Option<DateTime<Utc>> = None;
        let mut studybot_version = String::new();
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "format" => format = Some(map.next_value()?),
                "schema_version" => version = Some(map.next_value()?),
                "exported_at" => exported_at = Some(map.next_value()?),
                "studybot_version" => studybot_version = map.next_value()?,
                "trees" => {
                    if self.state.header.is_some() {
                        return Err(A::Error::custom("\"trees\" appears twice"));
                    }
                    let header = check_header(format.as_deref(), version, exported_at)
                        .map(|(schema_version, exported_at)| BackupHeader {
                            schema_version,
                            exported_at,
                            studybot_version: studybot_version.clone(),
                        })
                        .map_err(|error| self.state.stop::<A::Error>(error))?;
                    self.state.visit(BackupItem::Header(&header))?;
                    self.state.header = Some(header);
                    map.next_value_seed(Trees {
                        state: &mut *self.state,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if self.state.header.is_none() {
            let error = match check_header(format.as_deref(), version, exported_at) {
                Err(error) => error,
                Ok(_) => invalid("the backup has no \"trees\"".into()),
            };
            return Err(self.state.stop(error));
        }
        Ok(())
    }
}

/// `trees`: an object of arrays, by tree name.
pub(super) struct Trees<'s, 'v> {
    state: &'s mut Reading<'v>,
}

impl<'de> DeserializeSeed<'de> for Trees<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Trees<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("the trees by name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            self.state.visit(BackupItem::Tree(&name))?;
            map.next_value_seed(Entries {
                state: &mut *self.state,
                tree: &name,
            })?;
        }
        Ok(())
    }
}

/// One tree's array of entries.
pub(super) struct Entries<'s, 'v, 't> {
    state: &'s mut Reading<'v>,
    tree: &'t str,
}

impl<'de> DeserializeSeed<'de> for Entries<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a list of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let tree = self.tree;
        let mut index = 0;
        while let Some(wire) = seq.next_element::<WireEntry>()? {
            index += 1;
            let (key, value) = wire.decode().map_err(|reason| {
                self.state.stop::<A::Error>(invalid(format!(
                    "entry {index} of \"{tree}\" is damaged: {reason}; nothing was imported"
                )))
            })?;
            self.state.visit(BackupItem::Entry {
                tree,
                index,
                key: &key,
                value: &value,
            })?;
        }
        Ok(())
    }
}

/// How an entry is written in the file.
#[derive(Serialize, Deserialize)]
pub(super) struct WireEntry {
    pub(super) key: String,
    pub(super) value: WireValue,
}

/// A value in the file: embedded JSON, or hex for anything that is not JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum WireValue {
    Json(Box<RawValue>),
    Hex(String),
}

impl WireEntry {
    /// The key and value as stored.
    fn decode(self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let key = unhex(&self.key).ok_or_else(|| format!("key \"{}\" is not hex", self.key))?;
        let value = match self.value {
            WireValue::Json(raw) => raw.get().as_bytes().to_vec(),
            WireValue::Hex(text) => {
                unhex(&text).ok_or_else(|| format!("value \"{text}\" is not hex"))?
            }
        };
        Ok((key, value))
    }
}

/// Checks a backup's header fields: the format, a schema version this build reads, the
/// time it was taken.
pub(super) fn check_header(
    format: Option<&str>,
    schema_version: Option<u32>,
    exported_at: Option<DateTime<Utc>>,
) -> StoreResult<(u32, DateTime<Utc>)> {
    if format != Some(BACKUP_FORMAT) {
        return Err(invalid(format!(
            "not a studybot backup (its \"format\" is {}, expected \"{BACKUP_FORMAT}\")",
            format.map_or("missing".to_string(), |f| format!("\"{f}\""))
        )));
    }
    let version = match schema_version {
        Some(found @ OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION) => found,
        Some(found) => {
            return Err(invalid(format!(
                "the backup has store schema version {found}; this build reads version {SCHEMA_VERSION} (restore it with the studybot version that wrote it)"
            )));
        }
        None => {
            return Err(invalid(
                "the backup has no \"schema_version\" before its trees".into(),
            ));
        }
    };
    match exported_at {
        Some(at) => Ok((version, at)),
        None => Err(invalid(
            "the backup has no \"exported_at\" before its trees".into(),
        )),
    }
}
