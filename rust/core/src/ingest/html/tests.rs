//! The text mode's rules, end to end, and the other modes.

use std::time::{Duration, Instant};

use super::*;

fn text(html: &str) -> String {
    html_to_text(html, HtmlMode::Text).text
}

fn title(html: &str) -> Option<String> {
    html_to_text(html, HtmlMode::Text).title
}

#[test]
fn hidden_content_is_dropped() {
    let html = "<html><head><meta charset=utf-8><title>T</title>\
        <style>p { color: red }</style><script>var x = '<p>no</p>';</script>\
        <link rel=stylesheet href=x.css></head>\
        <body>a<script type=module>if (a < b) {}</script>b\
        <template><p>tpl</p></template>c<noscript>enable js</noscript>d\
        <!-- comment <p>x</p> -->e<?php echo 1 ?>f<iframe>frame</iframe>g\
        <svg><title>icon</title><text>svg</text></svg>h</body></html>";
    assert_eq!(text(html), "abcdefgh");
}

#[test]
fn blocks_and_br_become_line_breaks() {
    assert_eq!(
        text("<h1>Title</h1><p>one <b>bold</b> two</p><div>three<br>four</div><ul><li>x<li>y</ul>"),
        "Title\none bold two\nthree\nfour\nx\ny"
    );
    assert_eq!(
        text("<section><article><header>h</header>a<footer>f</footer></article></section><nav>n</nav><blockquote>q</blockquote><dl><dt>t<dd>d</dl><form>fo</form>x<hr>y"),
        "h\na\nf\nn\nq\nt\nd\nfo\nx\ny"
    );
    // Inline elements do not break words.
    assert_eq!(text("<span>a</span><em>b</em> <a href=#>c</a>"), "ab c");
}

#[test]
fn table_cells_are_tab_separated() {
    assert_eq!(
        text("<table><tr><th>a</th><th>b</th></tr><tr><td>1<td>2</table>after"),
        "a\tb\n1\t2\nafter"
    );
}

#[test]
fn white_space_collapses_and_blank_lines_collapse() {
    assert_eq!(
        text("  a \n\n\t b  <p>\n</p><p></p>  <div> c </div>\n\n"),
        "a b\nc"
    );
    assert_eq!(text("a<br><br><br>b"), "a\nb");
}

#[test]
fn preformatted_text_keeps_its_white_space() {
    assert_eq!(
        text("<p>x</p><pre>\n  fn main() {\n\n      a &lt; b;\n  }</pre><p>y  z</p>"),
        "x\n  fn main() {\n\n      a < b;\n  }\ny z"
    );
    assert_eq!(
        text("a <textarea>\n l1\n  l2</textarea> b"),
        "a  l1\n  l2 b"
    );
    assert_eq!(text("<xmp><b> &amp; </b></xmp>"), "<b> &amp; </b>");
}

#[test]
fn character_references_are_decoded() {
    assert_eq!(
        text("&lt;p&gt; &amp;amp; &copy 2024 &eacute;&#233;&#xE9; &#0; &#x110000; &bogus; a&b"),
        "<p> &amp; © 2024 ééé \u{fffd} \u{fffd} &bogus; a&b"
    );
    // A reference that makes white space collapses like written white space.
    assert_eq!(text("a&#32;&#32; &#10;b"), "a b");
    assert_eq!(text("a&nbsp;&nbsp;b"), "a\u{a0}\u{a0}b");
}

#[test]
fn title_goes_to_title() {
    assert_eq!(
        title("<title> A &amp;\n B </title><title>second</title>"),
        Some("A & B".into())
    );
    assert_eq!(title("<TITLE>x</TITLE>"), Some("x".into()));
    assert_eq!(title("<title> </title><title>late</title>"), None);
    assert_eq!(title("<p>no title</p>"), None);
    assert_eq!(
        title("<svg><title>icon</title></svg><title>page</title>"),
        Some("page".into())
    );
    assert_eq!(
        title("<title><b>not a tag</b>"),
        Some("<b>not a tag</b>".into())
    );
    assert_eq!(text("<title>T</title>body"), "body");
}

#[test]
fn malformed_html_falls_back_as_documented() {
    // `<` not starting a tag is text.
    assert_eq!(text("1 < 2 and 3 <4 < p>"), "1 < 2 and 3 <4 < p>");
    // Quoted `>` in attributes; uppercase names.
    assert_eq!(
        text(r#"<A TITLE="a > b" HREF='>'>link</A><P>p</P>"#),
        "link\np"
    );
    // Cut markup drops the rest.
    assert_eq!(text("a<!-- never closed <p>b</p>"), "a");
    assert_eq!(text("a<p class='x>b"), "a");
    assert_eq!(text("a<script>never closed"), "a");
    // End tags that close nothing, and misnesting.
    assert_eq!(text("</p></div>a<b><i>b</b></i></pre>c"), "ab\nc");
    // CDATA: text in foreign content, a bogus comment elsewhere.
    assert_eq!(
        text("a<![CDATA[x]]>b<math><![CDATA[y<z]]></math>c"),
        "aby<zc"
    );
    // plaintext: the rest is text.
    assert_eq!(text("a<plaintext><b>c</b>"), "a\n<b>c</b>");
}

#[test]
fn raw_mode_keeps_the_html() {
    let html = "<html><title>T</title><p>a</p>";
    let out = html_to_text(html, HtmlMode::Raw);
    assert_eq!(out.text, html);
    assert_eq!(out.title, Some("T".into()));
}

#[test]
fn main_mode_keeps_the_article_and_drops_navigation() {
    let para = "This paragraph is part of the article body, which talks at length about rivers, \
        their sources, their deltas, and the towns built along their banks over the centuries. ";
    let html = format!(
        "<html><head><title>Rivers</title></head><body>\
         <nav class=menu><ul><li><a href=/>Home</a><li><a href=/a>About us</a></ul></nav>\
         <header class=site-header>Site banner</header>\
         <article><h1>Rivers</h1><p>{para}{para}</p><p>{para}{para}</p><p>{para}</p></article>\
         <aside class=sidebar><a href=/x>Sidebar link</a></aside>\
         <footer class=site-footer>Copyright footer</footer></body></html>"
    );
    let out = html_to_text(&html, HtmlMode::Main);
    assert_eq!(out.title, Some("Rivers".into()));
    assert!(
        out.text.contains("their sources, their deltas"),
        "{}",
        out.text
    );
    for boilerplate in [
        "About us",
        "Site banner",
        "Sidebar link",
        "Copyright footer",
    ] {
        assert!(
            !out.text.contains(boilerplate),
            "{boilerplate} in {}",
            out.text
        );
    }
    assert!(html_to_text(&html, HtmlMode::Text)
        .text
        .contains("About us"));
}

#[test]
fn main_mode_falls_back_to_the_text() {
    for html in ["", "just words", "<p>a</p><p>b</p>", "<nav>x</nav>"] {
        assert_eq!(
            html_to_text(html, HtmlMode::Main).text,
            html_to_text(html, HtmlMode::Text).text,
            "{html}"
        );
    }
}

/// Pathological inputs of 1 MiB finish fast, in every mode (the main mode
/// through its depth guard).
#[test]
fn pathological_inputs_are_linear() {
    let mb = 1 << 20;
    let inputs = [
        "<".repeat(mb),
        "<a".repeat(mb / 2),
        "<div>".repeat(mb / 5),
        "<p><b><i>".repeat(mb / 9),
        "</".repeat(mb / 2),
        "<!--".repeat(mb / 4),
        "<a x='".repeat(mb / 6),
        "<a x=\"".repeat(mb / 6) + ">",
        "<script><".repeat(mb / 9),
        "&".repeat(mb),
        "&#".repeat(mb / 2),
        "&amp".repeat(mb / 4),
        "<pre>".repeat(mb / 5),
        "<svg><![CDATA[".repeat(mb / 14),
        format!("<a {}>", "\" ".repeat(mb / 2)),
        "<div></span>".repeat(mb / 12),
        "<table><tr><td>".repeat(mb / 15),
        "<p>a</p>".repeat(mb / 8),
        "<li>a".repeat(mb / 5),
    ];
    for input in &inputs {
        let start = Instant::now();
        let out = html_to_text(input, HtmlMode::Text);
        assert!(out.text.len() <= input.len() * 2);
        let _ = html_to_text(input, HtmlMode::Raw);
        let _ = html_to_text(input, HtmlMode::Main);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}... took {:?}",
            &input[..20],
            start.elapsed()
        );
    }
}
