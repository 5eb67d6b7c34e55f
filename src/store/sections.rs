//! Documents and their sections: written when the data file changed, read to serve lookups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreResult, trees};
use crate::text::{Document, Section};

/// What [`Store::sync_document`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The stored copy already had this content hash: nothing was written.
    Unchanged,
    /// The document was (re)written.
    Written,
}

/// A text imported with `studybot import`: what the store remembers besides its sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedText {
    /// The document id.
    pub id: String,
    /// The file it was imported from (its name, as given).
    pub source: String,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
    /// The content hash of its data-file form.
    pub content_hash: u64,
}

/// A document's metadata as stored; its sections live in their own tree.
#[derive(Debug, Serialize, Deserialize)]
struct DocumentRecord {
    id: String,
    title: String,
    occasion: String,
    note: String,
    content_hash: u64,
    sections: usize,
}

fn document_key(id: &str) -> Vec<u8> {
    format!("document:{id}").into_bytes()
}

fn section_prefix(document: &str) -> Vec<u8> {
    let mut key = document.as_bytes().to_vec();
    key.push(0);
    key
}

fn section_key(document: &str, section: &Section) -> Vec<u8> {
    let mut key = section_prefix(document);
    key.extend([section.id.part, section.id.point]);
    key
}

/// Checks a document record of a backup (`meta`, key `document:<id>`) and returns its
/// text id and the number of sections it declares: a start trusts a record whose content
/// hash matches and does not write the sections again, so they must all be there.
pub(super) fn backup_document(key: &[u8], value: &[u8]) -> Result<(String, usize), String> {
    let record: DocumentRecord =
        serde_json::from_slice(value).map_err(|error| format!("a document record: {error}"))?;
    match key == document_key(&record.id) {
        true => Ok((record.id, record.sections)),
        false => Err(format!(
            "it is the record of text \"{}\", filed under another id",
            record.id
        )),
    }
}

/// Checks a section of a backup (it decodes and is stored under its own key) and
/// returns the id of the text it belongs to.
pub(super) fn backup_section(key: &[u8], value: &[u8]) -> Result<String, String> {
    let section: Section = serde_json::from_slice(value).map_err(|error| error.to_string())?;
    let Some((text, [0, part, point])) = key.split_last_chunk::<3>() else {
        return Err("its key is not a text id, a 0 byte and a section".into());
    };
    if [*part, *point] != [section.id.part, section.id.point] {
        return Err(format!(
            "section {} is stored under another section's key",
            section.id
        ));
    }
    String::from_utf8(text.to_vec()).map_err(|_| "its text id is not UTF-8".into())
}

impl Store {
    /// Stores `document` unless the stored copy has the same `content_hash`. The record
    /// with the hash is written last, so an interrupted rewrite is redone on the next start.
    pub fn sync_document(
        &self,
        document: &Document,
        content_hash: u64,
    ) -> StoreResult<SyncOutcome> {
        let key = document_key(&document.id);
        if let Some(record) = self.get_json::<DocumentRecord>(trees::META, &key)?
            && record.content_hash == content_hash
        {
            return Ok(SyncOutcome::Unchanged);
        }
        for (old, _) in self.scan_prefix(trees::SECTIONS, &section_prefix(&document.id))? {
            self.backend().remove(trees::SECTIONS, &old)?;
        }
        for section in &document.sections {
            self.put_json(
                trees::SECTIONS,
                &section_key(&document.id, section),
                section,
            )?;
        }
        let record = DocumentRecord {
            id: document.id.clone(),
            title: document.title.clone(),
            occasion: document.occasion.clone(),
            note: document.note.clone(),
            content_hash,
            sections: document.sections.len(),
        };
        self.put_json(trees::META, &key, &record)?;
        self.flush()?;
        Ok(SyncOutcome::Written)
    }

    /// Stores an imported text: its sections and metadata (as [`Store::sync_document`]),
    /// then the record that marks it imported, then flushes, so a text reported stored
    /// is on disk.
    pub fn store_imported(&self, document: &Document, record: &ImportedText) -> StoreResult<()> {
        self.sync_document(document, record.content_hash)?;
        self.put_json(trees::IMPORTED, record.id.as_bytes(), record)?;
        self.flush()
    }

    /// The imported texts' records, by id.
    pub fn imported_texts(&self) -> StoreResult<Vec<ImportedText>> {
        Ok(self
            .scan_json(trees::IMPORTED, &[])?
            .into_iter()
            .map(|(_, record)| record)
            .collect())
    }

    /// Reads a document back from the store.
    pub fn load_document(&self, id: &str) -> StoreResult<Option<Document>> {
        let Some(record) = self.get_json::<DocumentRecord>(trees::META, &document_key(id))? else {
            return Ok(None);
        };
        let sections: Vec<Section> = self
            .scan_json(trees::SECTIONS, &section_prefix(id))?
            .into_iter()
            .map(|(_, section)| section)
            .collect();
        if sections.len() != record.sections {
            return Err(super::StoreError::Corrupt {
                tree: trees::SECTIONS,
                reason: format!(
                    "document {id} should have {} sections, found {}",
                    record.sections,
                    sections.len()
                ),
            });
        }
        Ok(Some(Document {
            id: record.id,
            title: record.title,
            occasion: record.occasion,
            note: record.note,
            sections,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::stores;
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");

    #[test]
    fn imported_texts_are_stored_and_listed() {
        let mut document = parse_document("xzsj.md", SPEECH).unwrap();
        document.id = "copy".into();
        for (name, store, _dir) in stores() {
            assert!(store.imported_texts().unwrap().is_empty(), "{name}");
            let record = ImportedText {
                id: "copy".into(),
                source: "copy.txt".into(),
                imported_at: Utc::now(),
                content_hash: 7,
            };
            store.store_imported(&document, &record).unwrap();
            assert_eq!(store.imported_texts().unwrap(), vec![record], "{name}");
            assert_eq!(
                store.load_document("copy").unwrap().as_ref(),
                Some(&document)
            );
            assert_eq!(store.load_document("xzsj").unwrap(), None, "{name}");
        }
    }

    #[test]
    fn documents_round_trip_in_both_backends() {
        let document = parse_document("xzsj.md", SPEECH).unwrap();
        for (_, store, _dir) in stores() {
            assert_eq!(store.load_document("xzsj").unwrap(), None);
            assert_eq!(
                store.sync_document(&document, 1).unwrap(),
                SyncOutcome::Written
            );
            assert_eq!(
                store.sync_document(&document, 1).unwrap(),
                SyncOutcome::Unchanged
            );
            assert_eq!(
                store.load_document("xzsj").unwrap().as_ref(),
                Some(&document)
            );
            let mut changed = document.clone();
            changed.sections.pop();
            assert_eq!(
                store.sync_document(&changed, 2).unwrap(),
                SyncOutcome::Written
            );
            assert_eq!(store.load_document("xzsj").unwrap(), Some(changed));
        }
    }
}
