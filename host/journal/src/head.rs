//! The journal's head anchors: beside a journal file `<name>`, the
//! directory `<name>.heads` holds one file per run, `<run id>.json`,
//! naming the run's newest call written and that call's chain link,
//! tagged with the run's chain key (an HMAC) or, for an unkeyed run, with
//! SHA-256. One file per run: a run has one writer (its lease), so no
//! writer can overwrite another's anchor.
//!
//! The hash chain alone cannot show that a run's newest calls were
//! removed: nothing after them links to them. The anchor can. It is
//! overwritten in place after every committed call, so it never runs
//! ahead of what the database committed; after a crash it may lag one call
//! behind, which is harmless: the anchored call must still be in the
//! journal, with the same link, and whatever follows it is checked by the
//! chain. (So the newest call alone can go missing unnoticed, exactly as
//! when a crash falls between its commit and its anchor.)
//!
//! What it cannot show is a journal and its head file both copied back
//! from an earlier moment together; that needs a counter outside the
//! host's disk.

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::{CHAIN_VERSION, ChainKey};
use crate::error::JournalError;
use crate::journal::{Journal, call_key, parse_call};
use crate::model::{Call, RunId};
use crate::private::private_file;

/// Version of the head file's format.
const FORMAT: u32 = 1;

/// Size of a head file: its JSON padded with spaces. Fixed, and within one
/// disk sector, so that each later anchor overwrites it in place in one
/// write (about a microsecond; renaming a new file over it costs a hundred
/// times more on ext4, which flushes a file replaced by rename).
const RECORD: usize = 512;

/// Domain of every tag, so a tag cannot be confused with a chain link.
const DOMAIN: &[u8] = b"stratbox journal head v1";

/// One run's anchor: its newest call and that call's link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Anchor {
    /// The run's id in the journal.
    run: i64,
    /// The newest call: `init` or `tick`.
    call: String,
    /// The newest call's sequence, as stored.
    sequence: i64,
    /// Its chain link, hex.
    link: String,
    /// HMAC (keyed run) or SHA-256 (unkeyed) of the above, hex.
    tag: String,
}

/// A run's head file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadFile {
    /// [`FORMAT`].
    version: u32,
    /// The anchor.
    anchor: Anchor,
}

/// The anchors of one journal: kept in memory for a journal in memory,
/// in `<journal>.heads/` for a journal file.
#[derive(Debug, Default)]
pub(crate) struct Heads {
    dir: Option<PathBuf>,
    in_memory: BTreeMap<i64, Anchor>,
    /// The head file last written, kept open to overwrite in place.
    open: Option<(i64, std::fs::File)>,
}

/// The directory of the head anchors of the journal file `journal`.
pub fn heads_dir(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".heads");
    PathBuf::from(name)
}

/// The head anchor file of run `run` of the journal file `journal`.
pub fn head_file(journal: &Path, run: RunId) -> PathBuf {
    heads_dir(journal).join(format!("{}.json", run.0))
}

fn tag(key: Option<&ChainKey>, run: i64, call: &str, sequence: i64, link: &[u8]) -> String {
    let parts: [&[u8]; 5] = [
        DOMAIN,
        &run.to_be_bytes(),
        call.as_bytes(),
        &sequence.to_be_bytes(),
        link,
    ];
    let digest = match key {
        Some(key) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.secret())
                .expect("HMAC takes a key of any length");
            for part in parts {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        None => {
            let mut hash = Sha256::new();
            for part in parts {
                hash.update((part.len() as u64).to_be_bytes());
                hash.update(part);
            }
            hash.finalize().to_vec()
        }
    };
    hex::encode(digest)
}

impl Heads {
    /// The anchors of the journal file at `journal` (`None`: in memory).
    pub(crate) fn new(journal: Option<&Path>) -> Heads {
        Heads {
            dir: journal.map(heads_dir),
            in_memory: BTreeMap::new(),
            open: None,
        }
    }

    fn file(&self, run: RunId) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.join(format!("{}.json", run.0)),
            None => PathBuf::new(),
        }
    }

    fn corrupt(path: &Path, reason: impl std::fmt::Display) -> JournalError {
        JournalError::HeadCorrupt {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// `run`'s anchor as stored now, if any.
    fn load(&self, run: RunId) -> Result<Option<Anchor>, JournalError> {
        if self.dir.is_none() {
            return Ok(self.in_memory.get(&run.0).cloned());
        }
        let path = self.file(run);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(JournalError::HeadFile { path, source }),
        };
        if text.len() != RECORD {
            return Err(Heads::corrupt(
                &path,
                format!("{} bytes instead of {RECORD}", text.len()),
            ));
        }
        let file: HeadFile =
            serde_json::from_slice(text.trim_ascii_end()).map_err(|e| Heads::corrupt(&path, e))?;
        if file.version != FORMAT {
            return Err(Heads::corrupt(
                &path,
                format!(
                    "format version {} (this build reads {FORMAT})",
                    file.version
                ),
            ));
        }
        if file.anchor.run != run.0 {
            return Err(Heads::corrupt(
                &path,
                format!("it anchors run {}", file.anchor.run),
            ));
        }
        Ok(Some(file.anchor))
    }

    /// Anchor `run` at its newest call (`call`, `sequence` as stored) with
    /// `link`; called after the call's transaction committed.
    pub(crate) fn anchor(
        &mut self,
        run: RunId,
        (call, sequence): (&str, i64),
        link: &[u8],
        key: Option<&ChainKey>,
    ) -> Result<(), JournalError> {
        let anchor = Anchor {
            run: run.0,
            call: call.to_owned(),
            sequence,
            link: hex::encode(link),
            tag: tag(key, run.0, call, sequence, link),
        };
        let Some(dir) = &self.dir else {
            self.in_memory.insert(run.0, anchor);
            return Ok(());
        };
        let path = self.file(run);
        let io = |source| JournalError::HeadFile {
            path: path.clone(),
            source,
        };
        let mut bytes = serde_json::to_vec(&HeadFile {
            version: FORMAT,
            anchor,
        })
        .map_err(|e| Heads::corrupt(&path, e))?;
        if bytes.len() > RECORD {
            return Err(Heads::corrupt(&path, "the anchor does not fit its record"));
        }
        bytes.resize(RECORD, b' ');
        let file = match self.open.take() {
            Some((open, file)) if open == run.0 => Some(file),
            _ => match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(file) => Some(file),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(e)),
            },
        };
        let file = match file {
            Some(mut file) => {
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                file.write_all(&bytes).map_err(io)?;
                file
            }
            None => {
                // The first anchor: a complete file renamed into place, so
                // that a head file is never seen empty or short.
                std::fs::create_dir_all(dir).map_err(io)?;
                let staged = path.with_extension("json.tmp");
                private_file(&staged, true).map_err(io)?;
                std::fs::write(&staged, &bytes).map_err(io)?;
                std::fs::rename(&staged, &path).map_err(io)?;
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io)?
            }
        };
        self.open = Some((run.0, file));
        Ok(())
    }

    /// Check that `run`'s anchored call is still in the journal with the
    /// link the anchor names. A run with no call needs no anchor; a run
    /// with calls and no anchor is refused when `required`, since its
    /// anchor can then only have been removed.
    fn check(
        &self,
        conn: &Connection,
        run: RunId,
        key: Option<&ChainKey>,
        required: bool,
    ) -> Result<(), JournalError> {
        let file = || self.file(run);
        let Some(anchor) = self.load(run)? else {
            if !required {
                return Ok(());
            }
            let calls: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM ticks WHERE deployment = ?1")?
                .query_row([run.0], |row| row.get(0))?;
            if calls == 0 {
                return Ok(());
            }
            return Err(JournalError::HeadMissing {
                run: run.0,
                path: file(),
            });
        };
        let link = hex::decode(&anchor.link).map_err(|e| Heads::corrupt(&file(), e))?;
        if tag(key, run.0, &anchor.call, anchor.sequence, &link) != anchor.tag {
            return Err(JournalError::HeadForged {
                run: run.0,
                path: file(),
            });
        }
        let anchored = parse_call(&anchor.call, anchor.sequence)?;
        let stored: Option<Option<Vec<u8>>> = conn
            .prepare_cached(
                "SELECT chain FROM ticks WHERE deployment = ?1 AND call = ?2 AND sequence = ?3",
            )?
            .query_row(params![run.0, anchor.call, anchor.sequence], |row| {
                row.get(0)
            })
            .optional()?;
        if stored.flatten().as_deref() != Some(link.as_slice()) {
            return Err(JournalError::Truncated {
                run: run.0,
                anchored,
                path: file(),
            });
        }
        Ok(())
    }
}

impl Journal {
    /// Check `run`'s head anchor: its newest anchored call is still in the
    /// journal, unchanged. Runs of chain version 2 must have an anchor
    /// once they hold a call; older runs are checked if they have one.
    pub fn check_head(&self, run: RunId) -> Result<(), JournalError> {
        let key = self.key_for(run)?;
        let required = self.chain_version(run)? >= CHAIN_VERSION;
        self.heads.check(&self.conn, run, key, required)
    }

    /// Anchor `run` at the call just committed.
    pub(crate) fn anchor_head(
        &mut self,
        run: RunId,
        call: Call,
        link: &[u8],
        key: Option<&ChainKey>,
    ) -> Result<(), JournalError> {
        let (name, sequence) = call_key(call)?;
        self.heads.anchor(run, (name, sequence), link, key)
    }
}
