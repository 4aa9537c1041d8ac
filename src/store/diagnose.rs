//! What is wrong with a store file, in words an admin can act on (issue 11): SQLite says
//! "unable to open database file" or "disk I/O error" for a read-only file, a read-only
//! mount and a full disk alike, so the cause is found by probing the file and its folder
//! the way SQLite will use them (the file, and `-wal` / `-shm` files created beside it).

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The words for an SQLite error met while opening or using the store at `path`: the real
/// cause when the file system shows one, else SQLite's own message.
pub fn sqlite_error(path: &Path, e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    let code = e.sqlite_error_code();
    match code {
        Some(C::NotADatabase) => {
            "it is not an SQLite database (the file holds something else); choose another \
             path with jsonData.databasePath"
                .to_string()
        }
        Some(C::DatabaseCorrupt) => damaged(&super::sqlite::describe_error(e)),
        _ => match place_problem(path) {
            Some(cause) => cause,
            None => match code {
                Some(C::DiskFull) => full(&folder_of(path)),
                Some(C::ReadOnly) => read_only_file(path),
                _ => super::sqlite::describe_error(e),
            },
        },
    }
}

/// The sentence for a store whose pages are damaged.
pub fn damaged(detail: &str) -> String {
    format!(
        "the file is damaged ({detail}): stop Grafana, keep a copy of the file, then restore it \
         from a backup (or recover what is readable with `sqlite3 <file> .recover`)"
    )
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn full(folder: &Path) -> String {
    format!(
        "the disk holding {} is full: free some space there (SQLite needs room for the file \
         and for its -wal journal beside it), or set jsonData.databasePath to a file on \
         another disk",
        folder.display()
    )
}

fn read_only_file(file: &Path) -> String {
    format!(
        "{} is read-only for the user the plugin runs as: let that user (Grafana's) write the \
         store, the -wal and -shm files beside it, and its folder",
        file.display()
    )
}

/// The words for an I/O error met writing `what` (the file, or the folder).
fn io_problem(path: &Path, what: &Path, e: &std::io::Error) -> String {
    let folder = folder_of(path);
    match e.kind() {
        ErrorKind::ReadOnlyFilesystem => format!(
            "{} is on a read-only file system (a read-only mount): remount it read-write, or set \
             jsonData.databasePath to a file on a writable disk",
            folder.display()
        ),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => full(&folder),
        ErrorKind::PermissionDenied if what != folder => read_only_file(what),
        ErrorKind::PermissionDenied => format!(
            "the user the plugin runs as may not create files in {}: SQLite writes the -wal \
             and -shm files beside the store, so let that user (Grafana's) write the folder",
            folder.display()
        ),
        _ => format!("cannot write {}: {e}", what.display()),
    }
}

/// Why the store at `path` cannot be written, if it cannot: the file (and its `-wal` and
/// `-shm` files) must open for writing, and its folder must take a new file of one page.
pub fn place_problem(path: &Path) -> Option<String> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        if !file.exists() {
            continue;
        }
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(&file) {
            return Some(io_problem(path, &file, &e));
        }
    }
    let folder = folder_of(path);
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let probe = folder.join(format!(".{stem}.probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| {
            let r = f.write_all(&[0u8; 4096]).and_then(|()| f.sync_all());
            drop(f);
            let _ = std::fs::remove_file(&probe);
            r
        });
    match written {
        Ok(()) => None,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(io_problem(path, &folder, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_place_has_no_problem_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.db");
        std::fs::write(&path, b"").expect("file");
        assert_eq!(place_problem(&path), None);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn io_errors_become_causes() {
        let p = Path::new("/data/m.db");
        let e = |k: ErrorKind| std::io::Error::from(k);
        assert!(
            io_problem(p, p, &e(ErrorKind::ReadOnlyFilesystem)).contains("read-only file system")
        );
        assert!(io_problem(p, p, &e(ErrorKind::StorageFull)).contains("is full"));
        assert!(io_problem(p, p, &e(ErrorKind::PermissionDenied)).contains("m.db is read-only"));
        assert!(io_problem(
            p,
            Path::new("/data/m.db-wal"),
            &e(ErrorKind::PermissionDenied)
        )
        .contains("m.db-wal is read-only"));
        assert!(
            io_problem(p, Path::new("/data"), &e(ErrorKind::PermissionDenied))
                .contains("may not create files")
        );
    }
}
