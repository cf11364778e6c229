//! What ingest reads and how: the format choice, the fields to take from
//! structured formats, how plain text is cut into documents, and the safety
//! limits.

use crate::error::{Error, Result};

use super::record::{Format, FormatChoice};

/// How texts are cut into documents: plain-text members, and the records of
/// every other format (see [`super::text_units`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextUnit {
    /// The whole member is one document.
    #[default]
    File,
    /// Every non-blank line is a document.
    Line,
    /// Every run of non-blank lines (paragraphs separated by blank lines) is a
    /// document.
    Paragraph,
}

impl std::str::FromStr for TextUnit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "file" => Ok(TextUnit::File),
            "line" => Ok(TextUnit::Line),
            "paragraph" => Ok(TextUnit::Paragraph),
            other => Err(Error::InvalidArgument(format!(
                "unknown text unit {other:?}; expected \"file\", \"line\" or \"paragraph\""
            ))),
        }
    }
}

/// What is kept of an HTML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HtmlMode {
    /// The visible text: no scripts, styles, templates, comments or markup;
    /// block elements and `<br>` become line breaks; entities decoded.
    #[default]
    Text,
    /// The main content only: navigation, headers, footers and sidebars
    /// removed too.
    Main,
    /// The HTML as it is.
    Raw,
}

impl HtmlMode {
    /// Every mode, in the order of [`HtmlMode::name`]'s documentation.
    pub const ALL: [HtmlMode; 3] = [HtmlMode::Text, HtmlMode::Main, HtmlMode::Raw];

    /// The name used by the `html=` option: `"text"`, `"main"` or `"raw"`.
    pub fn name(self) -> &'static str {
        match self {
            HtmlMode::Text => "text",
            HtmlMode::Main => "main",
            HtmlMode::Raw => "raw",
        }
    }
}

impl std::str::FromStr for HtmlMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        HtmlMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown html mode {s:?}; expected \"text\", \"main\" or \"raw\""
                ))
            })
    }
}

/// The content types read as documents from web archives; records of other
/// types are skipped and counted, not reported as errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTypes(Vec<String>);

impl ContentTypes {
    /// The default: HTML, XHTML and plain text.
    pub const DEFAULT: [&'static str; 3] = ["text/html", "application/xhtml+xml", "text/plain"];

    /// Types given as MIME types (`text/html`), a whole top-level type
    /// (`text/*`) or anything (`*/*` or `*`); lowercased.
    pub fn new<S: AsRef<str>>(types: &[S]) -> Result<Self> {
        let mut out = Vec::with_capacity(types.len());
        for t in types {
            let t = t.as_ref().trim().to_ascii_lowercase();
            let valid = t == "*"
                || t.split_once('/').is_some_and(|(a, b)| {
                    !a.is_empty() && !b.is_empty() && !b.contains('/') && (a != "*" || b == "*")
                });
            if !valid {
                return Err(Error::InvalidArgument(format!(
                    "content type {t:?} is not a MIME type like \"text/html\", \"text/*\" or \"*/*\""
                )));
            }
            out.push(t);
        }
        if out.is_empty() {
            return Err(Error::InvalidArgument(
                "content_types must name at least one type".into(),
            ));
        }
        Ok(ContentTypes(out))
    }

    /// The types, as given (lowercased).
    pub fn types(&self) -> &[String] {
        &self.0
    }

    /// Whether `mime` (a bare MIME type, lowercase, without parameters) is
    /// one of the types.
    pub fn accepts(&self, mime: &str) -> bool {
        self.0.iter().any(|t| {
            t == "*"
                || t == "*/*"
                || t == mime
                || t.strip_suffix("/*")
                    .is_some_and(|top| mime.split_once('/').is_some_and(|(m_top, _)| m_top == top))
        })
    }
}

impl Default for ContentTypes {
    fn default() -> Self {
        ContentTypes(Self::DEFAULT.iter().map(|t| (*t).to_owned()).collect())
    }
}

/// The names a field of structured records (a JSONL field, a Parquet or
/// Arrow column) may have, tried in order: in each record (each row), the
/// first name present with a non-null value wins, and its value is removed
/// from `meta`; the other names stay in `meta` like any other field. An empty
/// list turns the field off (for every field but the text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldNames(Vec<String>);

impl FieldNames {
    /// Default names of the text field.
    pub const TEXT: [&'static str; 3] = ["text", "content", "raw_content"];
    /// Default names of the title field.
    pub const TITLE: [&'static str; 1] = ["title"];
    /// Default names of the record's own id.
    pub const ID: [&'static str; 1] = ["id"];
    /// Default names of the URL field.
    pub const URL: [&'static str; 1] = ["url"];
    /// Default names of the date field.
    pub const DATE: [&'static str; 4] = ["date", "timestamp", "crawl_date", "created_at"];

    /// The defaults by option name (`text_field`, `title_field`, `id_field`,
    /// `url_field`, `date_field`), for the bindings to show.
    pub const DEFAULTS: [(&'static str, &'static [&'static str]); 5] = [
        ("text_field", &Self::TEXT),
        ("title_field", &Self::TITLE),
        ("id_field", &Self::ID),
        ("url_field", &Self::URL),
        ("date_field", &Self::DATE),
    ];

    /// The names, in the order they are tried.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        FieldNames(names.into_iter().map(Into::into).collect())
    }

    /// No name: the field is off.
    pub fn off() -> Self {
        FieldNames(Vec::new())
    }

    /// The names, in the order they are tried.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether the field is off.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names quoted and joined by commas (`"text", "content"`), for
    /// error reasons.
    pub fn quoted(&self) -> String {
        let quoted: Vec<String> = self.0.iter().map(|n| format!("{n:?}")).collect();
        quoted.join(", ")
    }

    /// Checks that no name is empty; `option` names the option in the error.
    fn validate(&self, option: &str) -> Result<()> {
        if self.0.iter().any(String::is_empty) {
            return Err(Error::InvalidArgument(format!(
                "{option} holds an empty name; give field names, or no name to turn it off"
            )));
        }
        Ok(())
    }
}

impl From<&str> for FieldNames {
    /// One name.
    fn from(name: &str) -> Self {
        FieldNames(vec![name.to_owned()])
    }
}

/// Safety limits. Hitting one is an error row for the member or record
/// concerned, never a crash, a hang or unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most decompressed bytes read from one member (or one plain file).
    pub max_member_bytes: u64,
    /// Most decompressed bytes read from one input file, all members and
    /// nesting levels together.
    pub max_input_bytes: u64,
    /// Largest expansion (decompressed bytes per compressed byte) of one
    /// compressed stream or zip archive, and of one input file over all its
    /// nesting levels together (its decompressed bytes, as counted for
    /// `max_input_bytes`, per byte of the file), each checked once it has
    /// produced [`Limits::RATIO_GRACE_BYTES`]; catches decompression bombs,
    /// nested ones included, early.
    pub max_ratio: u64,
    /// Longest record (a line, a paragraph, a JSON line, a WARC record, a
    /// whole-file document) in bytes.
    pub max_record_bytes: u64,
    /// Deepest nesting of containers (a `.gz` inside a `.tar` inside a `.zip`
    /// is depth 3).
    pub max_depth: usize,
    /// Largest member that must be held in memory to be read because its
    /// format needs random access (a zip or Parquet file inside another
    /// archive); paper-listing dumps are streamed and need no such limit.
    pub max_buffered_bytes: u64,
    /// Most records one input file gives to the collecting
    /// [`ingest_paths`](super::ingest_paths), which holds them all in memory;
    /// the records after them are read and counted in one `limit` row, not
    /// kept. The streaming [`scan`](super::scan) does not apply it, and is
    /// the way to read inputs with more records (a large file read with
    /// `text_unit = "line"`).
    pub max_records: u64,
}

impl Limits {
    /// Output a compressed stream may produce before its ratio is checked.
    pub const RATIO_GRACE_BYTES: u64 = 64 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_bytes: 16 << 30,
            max_input_bytes: 256 << 30,
            max_ratio: 200,
            max_record_bytes: 64 << 20,
            max_depth: 8,
            max_buffered_bytes: 256 << 20,
            max_records: 10_000_000,
        }
    }
}

/// Options of one ingest run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// Format of the innermost members: detected, or forced. Containers
    /// (compression, tar, zip) are always detected from their content.
    pub format: FormatChoice,
    /// JSONL fields (Parquet/Arrow columns) that may hold the text; never
    /// empty.
    pub text_field: FieldNames,
    /// JSONL fields (Parquet/Arrow columns) that may hold the title.
    pub title_field: FieldNames,
    /// JSONL fields (Parquet/Arrow columns) that may hold the record's own id.
    pub id_field: FieldNames,
    /// JSONL fields (Parquet/Arrow columns) that may hold the record's URL.
    pub url_field: FieldNames,
    /// JSONL fields (Parquet/Arrow columns) that may hold the record's date,
    /// parsed and normalised by [`dates`](super::dates).
    pub date_field: FieldNames,
    /// How the text of every format is cut into documents (see
    /// [`text_units`](super::text_units)).
    pub text_unit: TextUnit,
    pub limits: Limits,
    /// Follow symbolic links inside input directories wherever they lead.
    /// Off by default: a link leading out of the input directories is an
    /// error row instead (see [`super::walk`]).
    pub follow_symlinks: bool,
    /// What is kept of HTML. `None`: the visible text ([`HtmlMode::Text`])
    /// of web-archive records whose content type is HTML or XHTML, and
    /// other members and fields as they are. `Some(mode)`: `mode` for those
    /// records, and for text members and text fields sniffed as HTML too.
    pub html: Option<HtmlMode>,
    /// The content types of web-archive records read as documents.
    pub content_types: ContentTypes,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: FormatChoice::Auto,
            text_field: FieldNames::new(FieldNames::TEXT),
            title_field: FieldNames::new(FieldNames::TITLE),
            id_field: FieldNames::new(FieldNames::ID),
            url_field: FieldNames::new(FieldNames::URL),
            date_field: FieldNames::new(FieldNames::DATE),
            text_unit: TextUnit::File,
            limits: Limits::default(),
            follow_symlinks: false,
            html: None,
            content_types: ContentTypes::default(),
        }
    }
}

impl IngestOptions {
    /// Options that parse every member as `format`.
    pub fn with_format(format: Format) -> Self {
        IngestOptions {
            format: FormatChoice::Fixed(format),
            ..Self::default()
        }
    }

    /// Checks the options for values that cannot work.
    pub fn validate(&self) -> Result<()> {
        let l = &self.limits;
        if self.text_field.is_empty() {
            return Err(Error::InvalidArgument(
                "text_field must name at least one field".into(),
            ));
        }
        for (option, names) in [
            ("text_field", &self.text_field),
            ("title_field", &self.title_field),
            ("id_field", &self.id_field),
            ("url_field", &self.url_field),
            ("date_field", &self.date_field),
        ] {
            names.validate(option)?;
        }
        if l.max_member_bytes == 0 || l.max_input_bytes == 0 || l.max_record_bytes == 0 {
            return Err(Error::InvalidArgument(
                "byte limits must be positive".into(),
            ));
        }
        if l.max_records == 0 {
            return Err(Error::InvalidArgument(
                "max_records must be positive".into(),
            ));
        }
        if l.max_ratio == 0 {
            return Err(Error::InvalidArgument("max_ratio must be positive".into()));
        }
        if l.max_depth == 0 {
            return Err(Error::InvalidArgument(
                "max_depth must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
