//! Horizontal bar charts drawn on the server as SVG: no script, nothing for the CSP to
//! allow. A bar may link to the list it counts.

const BAR_HEIGHT: usize = 22;
/// Longest label drawn left of a bar (the full text is in the bar's tooltip).
const LABEL_CHARS: usize = 24;
const BAR_MAX_WIDTH: i64 = 460;
/// Where bars start, right of the labels.
const BAR_X: i64 = 170;

/// One value to draw.
pub struct Item {
    /// The value's text.
    pub label: String,
    /// Its count.
    pub count: i64,
    /// The list it opens, if any.
    pub url: Option<String>,
}

/// One bar, in SVG user units.
pub struct Bar {
    /// The full text.
    pub full: String,
    /// The text as labelled, shortened to fit the margin.
    pub label: String,
    /// Its count.
    pub count: i64,
    /// The list it opens, if any.
    pub url: Option<String>,
    /// Top of the bar.
    pub y: usize,
    /// Baseline of the label text.
    pub text_y: usize,
    /// Width of the bar.
    pub width: i64,
    /// Where the count is written.
    pub count_x: i64,
}

/// A chart: its bars and its height.
pub struct Chart {
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
    /// Height of the drawing.
    pub height: usize,
}

/// Draws at most `max_bars` items, scaled to the largest count.
pub fn bar_chart(items: Vec<Item>, max_bars: usize) -> Chart {
    let max = items.iter().map(|i| i.count).max().unwrap_or(1).max(1);
    let bars: Vec<Bar> = items
        .into_iter()
        .take(max_bars)
        .enumerate()
        .map(|(i, item)| {
            let width = (item.count * BAR_MAX_WIDTH / max).max(1);
            Bar {
                label: shorten(&item.label),
                full: item.label,
                count: item.count,
                url: item.url,
                y: i * BAR_HEIGHT + 4,
                text_y: i * BAR_HEIGHT + 19,
                width,
                count_x: BAR_X + width + 6,
            }
        })
        .collect();
    Chart {
        height: bars.len() * BAR_HEIGHT + 8,
        bars,
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > LABEL_CHARS {
        let mut short: String = text.chars().take(LABEL_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_long_labels_are_cut() {
        let item = |label: &str, count| Item {
            label: label.to_owned(),
            count,
            url: None,
        };
        let chart = bar_chart(
            vec![
                item("a", 10),
                item(&"x".repeat(40), 5),
                item("c", 0),
                item("d", 1),
            ],
            3,
        );
        assert_eq!(chart.bars.len(), 3);
        assert_eq!(chart.bars[0].width, BAR_MAX_WIDTH);
        assert_eq!(chart.bars[1].width, BAR_MAX_WIDTH / 2);
        assert_eq!(chart.bars[2].width, 1, "an empty value still shows");
        assert_eq!(chart.bars[1].label.chars().count(), LABEL_CHARS);
        assert_eq!(chart.bars[1].full.len(), 40);
        assert_eq!(chart.height, 3 * BAR_HEIGHT + 8);
    }
}
