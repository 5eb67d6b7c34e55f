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

/// Checks the texts of a backup: every document record in `meta` decodes and has its
/// sections in `sections` (a start trusts a record whose content hash matches and does
/// not write the sections again), and every section decodes under its own key.
pub(super) fn check_backup_texts(
    meta: &[(&[u8], &[u8])],
    sections: &[(&[u8], &[u8])],
) -> Result<(), String> {
    for (key, value) in sections {
        let section: Section = serde_json::from_slice(value)
            .map_err(|error| format!("{}: {error}", trees::SECTIONS))?;
        if !key.ends_with(&[0, section.id.part, section.id.point]) {
            return Err(format!(
                "{}: section {} is stored under another section's key",
                trees::SECTIONS,
                section.id
            ));
        }
    }
    for (key, value) in meta {
        let Some(id) = key.strip_prefix(b"document:") else {
            continue;
        };
        let record: DocumentRecord = serde_json::from_slice(value)
            .map_err(|error| format!("{}: document record: {error}", trees::META))?;
        let prefix = section_prefix(&String::from_utf8_lossy(id));
        let found = sections
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .count();
        if found != record.sections {
            return Err(format!(
                "document {} should have {} sections, the backup has {found}",
                record.id, record.sections
            ));
        }
    }
    Ok(())
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
