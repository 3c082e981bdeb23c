//! SVG bar charts for docs/benchmarks.md, written by hand (xtask stays std-only): one
//! horizontal bar per contender, tern's bars in another colour, the value at the end of each.

use std::fmt::Write as _;

use crate::cmd::thousands;

const WIDTH: f64 = 720.0;
const LABEL: f64 = 150.0;
const BAR: f64 = 26.0;
const GAP: f64 = 10.0;
const TOP: f64 = 48.0;

/// A bar chart of `bars` (name, value), titled `title`, values written with `unit`.
pub(crate) fn bars(title: &str, subtitle: &str, unit: &str, bars: &[(&str, f64)]) -> String {
    let max = bars.iter().map(|&(_, v)| v).fold(0.0_f64, f64::max).max(1.0);
    let span = WIDTH - LABEL - 110.0;
    let height = TOP + bars.len() as f64 * (BAR + GAP) + 12.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(svg, r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    let _ = writeln!(svg, r##"<text x="10" y="38" fill="#555555">{}</text>"##, escape(subtitle));
    for (i, &(name, value)) in bars.iter().enumerate() {
        let y = TOP + i as f64 * (BAR + GAP);
        let w = (value / max * span).max(1.0);
        let colour = if name.starts_with("tern") { "#d9480f" } else { "#4a6fa5" };
        let _ = writeln!(
            svg,
            r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{}</text>"#,
            LABEL - 8.0,
            y + BAR * 0.68,
            escape(name)
        );
        let _ = writeln!(svg, r#"<rect x="{LABEL}" y="{y:.0}" width="{w:.1}" height="{BAR}" fill="{colour}"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.0}">{} {}</text>"#,
            LABEL + w + 6.0,
            y + BAR * 0.68,
            thousands(value.max(0.0).round() as u64),
            escape(unit)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
