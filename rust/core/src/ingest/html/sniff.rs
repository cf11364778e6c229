//! Whether bytes look like an HTML document.

/// How far into the bytes a document's start is looked for: a leading
/// comment or XML declaration longer than this is not skipped.
const WINDOW: usize = 1024;

/// Whether bytes (the start of a member or field) look like an HTML
/// document: after an optional byte order mark, white space, XML
/// declaration and comments (within the first 1,024 bytes), `<!doctype
/// html`, `<html`, `<head` or `<body`, each followed by white space or `>`
/// (ASCII case-insensitively). Conservative: a fragment such as `<p>text`
/// is not a document.
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let mut rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    rest = &rest[..rest.len().min(WINDOW)];
    loop {
        rest = rest.trim_ascii_start();
        let skip = if rest.starts_with(b"<!--") {
            memchr::memmem::find(&rest[4..], b"-->").map(|i| 4 + i + 3)
        } else if rest.starts_with(b"<?xml") {
            memchr::memmem::find(rest, b"?>").map(|i| i + 2)
        } else {
            break;
        };
        match skip {
            Some(n) => rest = &rest[n..],
            None => return false,
        }
    }
    [&b"<!doctype html"[..], b"<html", b"<head", b"<body"]
        .iter()
        .any(|start| {
            rest.get(..start.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(start))
                && rest
                    .get(start.len())
                    .is_some_and(|&b| b == b'>' || b.is_ascii_whitespace())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        for doc in [
            "<!DOCTYPE html><html>",
            "<!doctype html>",
            "\u{feff}  <html lang=en>",
            "<HTML>\n<head>",
            "<head><title>x</title>",
            "<body>",
            "<!-- saved from url --><!DOCTYPE html>",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">",
            "<?xml version=\"1.0\"?><!-- a --> <!-- b --><html xmlns=\"http://www.w3.org/1999/xhtml\">",
        ] {
            assert!(looks_like_html(doc.as_bytes()), "{doc}");
        }
    }

    #[test]
    fn not_documents() {
        for doc in [
            "",
            "plain text <html>",
            "<p>a fragment</p>",
            "<htmlx>",
            "<html",
            "<!DOCTYPE svg>",
            "<?xml version=\"1.0\"?><rss>",
            "<!-- never closed <html>",
            "{\"text\": \"<html>\"}",
        ] {
            assert!(!looks_like_html(doc.as_bytes()), "{doc}");
        }
        let long_comment = format!("<!--{}--><html>", "x".repeat(2000));
        assert!(!looks_like_html(long_comment.as_bytes()));
    }
}
