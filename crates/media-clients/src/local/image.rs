//! Deterministic PNG / APNG pictures at the video's output size, with real
//! text drawn in the embedded DejaVu Sans fonts.
//!
//! Every picture (title card, still, each frame of a clip) has:
//!
//! - a vertical gradient coloured from a hash of the scene text (darker for
//!   title cards; stills and clips add a few translucent discs);
//! - at the top left, the scene number and the label [`LABEL`], so nobody
//!   mistakes it for generated footage;
//! - in the middle, the video title (title card) or the scene's visual
//!   prompt (still, clip), wrapped, as large as fits;
//! - at the bottom, the narration as a caption on a dark band (at most
//!   [`CAPTION_LINES`] lines, cut with "…" when longer).
//!
//! Text is wrapped by measuring glyph advances (with kerning); a word too
//! long for a line is broken between characters. Characters the font lacks
//! are drawn as its "missing glyph" box; control characters are skipped.
//! Glyph coverage is computed with plain IEEE `f32` arithmetic and the rest
//! with integers, so the bytes are the same on every machine.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, PxScaleFont, ScaleFont, point};
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{MediaError, MediaFormat, Scene};

use super::fnv1a;

/// The label on every picture of the local provider.
pub const LABEL: &str = "ytvc local provider (offline placeholder)";
/// The label of a title card: the last-resort visual of every provider
/// (with a Google provider it stands in for a failed clip and still).
pub const TITLE_CARD_LABEL: &str = "ytvc title card (no footage for this scene)";

/// The most caption lines on a picture; longer narration ends with "…".
pub const CAPTION_LINES: usize = 3;

/// The most frames of a clip.
pub const MAX_CLIP_FRAMES: u32 = 8;

/// The caption text colour (also the title / prompt colour).
pub const TEXT_COLOUR: Rgb = [255, 255, 255];

/// The picture size of the local provider for an aspect ratio: the video's
/// output size (16:9 → 1280×720, 9:16 → 720×1280, 1:1 → 720×720).
#[must_use]
pub fn frame_size(aspect: AspectRatio) -> (u32, u32) {
    ytvc_domain::media::video_frame_size(aspect)
}

/// An RGB colour.
pub type Rgb = [u8; 3];

// Layout, in pixels (every frame is at least 720 pixels on its short side).
const MARGIN: u32 = 48;
const SCENE_SIZE: f32 = 36.0;
const LABEL_SIZE: f32 = 22.0;
const CAPTION_SIZE: f32 = 34.0;
const CAPTION_PAD: u32 = 20;
const PROGRESS_HEIGHT: u32 = 10;
const TITLE_SIZES: [f32; 5] = [80.0, 68.0, 56.0, 46.0, 38.0];
const PROMPT_SIZES: [f32; 5] = [60.0, 52.0, 44.0, 38.0, 32.0];
const HEADING_MAX_LINES: usize = 6;

/// The embedded fonts.
struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        // Both are constant bytes of the `dejavu` crate; a unit test parses
        // them.
        regular: FontRef::try_from_slice(dejavu::sans::regular())
            .expect("the embedded DejaVu Sans parses"),
        bold: FontRef::try_from_slice(dejavu::sans::bold())
            .expect("the embedded DejaVu Sans Bold parses"),
    })
}

type Face = PxScaleFont<&'static FontRef<'static>>;

fn face(font: &'static FontRef<'static>, size: f32) -> Face {
    font.as_scaled(PxScale::from(size))
}

/// The glyphs of `text` that are drawn: control characters are skipped,
/// characters the font lacks map to its missing-glyph box (id 0).
fn glyphs<'a>(face: &'a Face, text: &'a str) -> impl Iterator<Item = GlyphId> + 'a {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| face.glyph_id(c))
}

/// The advance width of `text` on one line, kerning included.
fn text_width(face: &Face, text: &str) -> f32 {
    extend(face, (0.0, None), text).0
}

/// The width of a line that ended with glyph `last` at `width`, once
/// `text` is appended: the same sum, in the same order, as [`text_width`]
/// of the whole line.
fn extend(
    face: &Face,
    (mut width, mut last): (f32, Option<GlyphId>),
    text: &str,
) -> (f32, Option<GlyphId>) {
    for id in glyphs(face, text) {
        if let Some(prev) = last {
            width += face.kern(prev, id);
        }
        width += face.h_advance(id);
        last = Some(id);
    }
    (width, last)
}

/// Greedy word wrap to `max_width` pixels. Whitespace runs become single
/// spaces; a word wider than a line is broken between characters. A line
/// is only wider than `max_width` when it is a single character that is.
/// Linear in the length of `text`.
fn wrap(face: &Face, text: &str, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut end = (0.0, None);
    for word in text.split_whitespace() {
        if !line.is_empty() {
            let with_word = extend(face, extend(face, end, " "), word);
            if with_word.0 <= max_width {
                line.push(' ');
                line.push_str(word);
                end = with_word;
                continue;
            }
            lines.push(std::mem::take(&mut line));
        }
        let alone = extend(face, (0.0, None), word);
        if alone.0 <= max_width {
            line.push_str(word);
            end = alone;
            continue;
        }
        // Too long for any line: break it between characters.
        end = (0.0, None);
        let mut buf = [0; 4];
        for c in word.chars() {
            let next = extend(face, end, c.encode_utf8(&mut buf));
            if next.0 > max_width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                end = extend(face, (0.0, None), c.encode_utf8(&mut buf));
            } else {
                end = next;
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// More characters than any picture can show (6 lines of ~140 narrow
/// glyphs): text past this is cut before wrapping, to bound the work.
const MAX_TEXT_CHARS: usize = 1_000;

/// [`wrap`], keeping at most `max_lines` lines; when text is left over the
/// last line ends with "…" (shortened until it fits).
fn wrap_lines(face: &Face, text: &str, max_width: f32, max_lines: usize) -> Vec<String> {
    let mut lines = match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => wrap(face, &format!("{}…", &text[..cut]), max_width),
        None => wrap(face, text, max_width),
    };
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            loop {
                let candidate = format!("{}…", last.trim_end());
                if last.is_empty() || text_width(face, &candidate) <= max_width {
                    *last = candidate;
                    break;
                }
                last.pop();
            }
        }
    }
    lines
}

/// The height of one line of text (ascent + descent + line gap), rounded.
fn line_height(face: &Face) -> u32 {
    (face.height() + face.line_gap()).ceil() as u32
}

/// An RGB picture.
#[derive(Clone)]
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(aspect: AspectRatio) -> Self {
        let (width, height) = frame_size(aspect);
        Self {
            width,
            height,
            pixels: vec![0; (width * height * 3) as usize],
        }
    }

    /// Fills rows `y0..y1` between columns `x0..x1` (clipped) with `c`.
    fn fill(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: Rgb) {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        if x0 >= x1 {
            return;
        }
        let stride = self.width as usize * 3;
        for y in y0..y1 {
            let start = y as usize * stride + x0 as usize * 3;
            let row = &mut self.pixels[start..start + (x1 - x0) as usize * 3];
            // Doubling copies: fast even unoptimised.
            row[..3].copy_from_slice(&c);
            let mut filled = 3;
            while filled < row.len() {
                let n = filled.min(row.len() - filled);
                row.copy_within(0..n, filled);
                filled += n;
            }
        }
    }

    /// Vertical gradient from `top` to `bottom`.
    fn gradient(&mut self, top: Rgb, bottom: Rgb) {
        let h = self.height.max(2) - 1;
        for y in 0..self.height {
            let mix = |a: u8, b: u8| ((u32::from(a) * (h - y) + u32::from(b) * y) / h) as u8;
            let c = [
                mix(top[0], bottom[0]),
                mix(top[1], bottom[1]),
                mix(top[2], bottom[2]),
            ];
            self.fill(0, y, self.width, y + 1, c);
        }
    }

    /// Mixes `c` into one pixel with opacity `alpha` (0..=255); outside the
    /// picture, nothing.
    fn blend(&mut self, x: i64, y: i64, c: Rgb, alpha: u32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let i = ((y as usize) * self.width as usize + x as usize) * 3;
        let alpha = alpha.min(255);
        for (p, &c) in self.pixels[i..i + 3].iter_mut().zip(&c) {
            *p = ((u32::from(c) * alpha + u32::from(*p) * (255 - alpha) + 127) / 255) as u8;
        }
    }

    /// Mixes `c` into a rectangle.
    fn blend_rect(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: Rgb, alpha: u32) {
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                self.blend(i64::from(x), i64::from(y), c, alpha);
            }
        }
    }

    fn disc(&mut self, cx: u32, cy: u32, r: u32, c: Rgb, alpha: u32) {
        let (cx, cy, r) = (i64::from(cx), i64::from(cy), i64::from(r));
        for y in (cy - r).max(0)..=(cy + r).min(i64::from(self.height) - 1) {
            for x in (cx - r).max(0)..=(cx + r).min(i64::from(self.width) - 1) {
                if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                    self.blend(x, y, c, alpha);
                }
            }
        }
    }

    /// Draws one line of text with its left edge at `x` and its baseline
    /// at `baseline`.
    fn text(&mut self, face: &Face, text: &str, x: f32, baseline: f32, c: Rgb) {
        let mut caret = x;
        let mut prev: Option<GlyphId> = None;
        for id in glyphs(face, text) {
            if let Some(prev) = prev {
                caret += face.kern(prev, id);
            }
            let glyph = id.with_scale_and_position(face.scale(), point(caret, baseline));
            if let Some(outline) = face.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
                outline.draw(|gx, gy, coverage| {
                    let alpha = (coverage.clamp(0.0, 1.0) * 255.0).round() as u32;
                    if alpha > 0 {
                        self.blend(left + i64::from(gx), top + i64::from(gy), c, alpha);
                    }
                });
            }
            caret += face.h_advance(id);
            prev = Some(id);
        }
    }

    /// Draws `lines` centred horizontally, the first line's top at `top`.
    fn centred_lines(&mut self, face: &Face, lines: &[String], top: u32, c: Rgb, shadow: bool) {
        let step = line_height(face) as f32;
        for (k, line) in lines.iter().enumerate() {
            let x = ((self.width as f32 - text_width(face, line)) / 2.0).round();
            let baseline = (top as f32 + face.ascent() + step * k as f32).round();
            if shadow {
                self.text(face, line, x + 3.0, baseline + 3.0, [0, 0, 0]);
            }
            self.text(face, line, x, baseline, c);
        }
    }
}

/// A colour from 3 bytes of a hash, each in `lo..=hi`.
fn colour(hash: u64, shift: u32, lo: u8, hi: u8) -> Rgb {
    let span = u64::from(hi - lo) + 1;
    let byte = |k: u32| lo + ((hash >> ((shift + 8 * k) % 64)) % span) as u8;
    [byte(0), byte(1), byte(2)]
}

/// What a picture shows.
struct Card<'a> {
    /// Colours come from this.
    hash: u64,
    /// A title card (darker, bold heading) or a scene picture (discs).
    title_card: bool,
    /// The large text in the middle.
    heading: &'a str,
    /// The caption at the bottom.
    caption: &'a str,
    scene_index: u32,
}

impl Card<'_> {
    fn render(&self, aspect: AspectRatio) -> Canvas {
        let fonts = fonts();
        let hash = self.hash;
        let mut canvas = Canvas::new(aspect);
        let (w, h) = (canvas.width, canvas.height);
        let accent = colour(hash, 40, 150, 250);
        if self.title_card {
            canvas.gradient(colour(hash, 0, 10, 70), colour(hash, 24, 0, 40));
        } else {
            canvas.gradient(colour(hash, 0, 40, 170), colour(hash, 24, 10, 90));
            let shapes = fnv1a(&hash.to_le_bytes());
            for k in 0..4u32 {
                let bits = shapes.rotate_left(k * 16);
                let x = (bits & 0xffff) as u32 % w;
                let y = ((bits >> 16) & 0xffff) as u32 % h;
                let r = 24 + ((bits >> 32) as u32 % (w.min(h) / 5));
                canvas.disc(x, y, r, colour(bits, 40, 120, 230), 90);
            }
        }

        // Top left: the scene number, then the label.
        let scene_face = face(&fonts.bold, SCENE_SIZE);
        let mut y = MARGIN;
        let scene = format!("Scene {}", self.scene_index);
        let baseline = y as f32 + scene_face.ascent().round();
        canvas.text(&scene_face, &scene, MARGIN as f32, baseline, accent);
        y += line_height(&scene_face);
        let label_face = face(&fonts.regular, LABEL_SIZE);
        let baseline = y as f32 + label_face.ascent().round();
        let label = if self.title_card {
            TITLE_CARD_LABEL
        } else {
            LABEL
        };
        canvas.text(&label_face, label, MARGIN as f32, baseline, [225, 225, 225]);
        let heading_top = y + line_height(&label_face) + MARGIN / 2;

        // Bottom: the caption band (a progress bar may use its last rows).
        let text_width_max = (w - 2 * MARGIN) as f32;
        let caption_face = face(&fonts.regular, CAPTION_SIZE);
        let caption = wrap_lines(
            &caption_face,
            self.caption,
            text_width_max - 2.0 * CAPTION_PAD as f32,
            CAPTION_LINES,
        );
        let band_height = if caption.is_empty() {
            PROGRESS_HEIGHT
        } else {
            caption.len() as u32 * line_height(&caption_face) + 2 * CAPTION_PAD + PROGRESS_HEIGHT
        };
        let band_top = h - band_height;
        canvas.blend_rect(0, band_top, w, h, [0, 0, 0], 160);
        canvas.centred_lines(
            &caption_face,
            &caption,
            band_top + CAPTION_PAD,
            TEXT_COLOUR,
            false,
        );

        // Middle: the heading, the largest size that fits.
        let area = band_top.saturating_sub(heading_top + MARGIN / 2);
        let (font, sizes) = if self.title_card {
            (&fonts.bold, TITLE_SIZES)
        } else {
            (&fonts.regular, PROMPT_SIZES)
        };
        let mut layout = None;
        for size in sizes {
            let heading_face = face(font, size);
            let max_lines =
                (area / line_height(&heading_face)).clamp(1, HEADING_MAX_LINES as u32) as usize;
            // One line too many means it does not fit at this size.
            let mut lines = wrap_lines(&heading_face, self.heading, text_width_max, max_lines + 1);
            let fits = lines.len() <= max_lines;
            if !fits {
                lines = wrap_lines(&heading_face, self.heading, text_width_max, max_lines);
            }
            layout = Some((heading_face, lines));
            if fits {
                break;
            }
        }
        if let Some((heading_face, lines)) = layout {
            let block = lines.len() as u32 * line_height(&heading_face);
            let top = heading_top + area.saturating_sub(block) / 2;
            canvas.centred_lines(&heading_face, &lines, top, TEXT_COLOUR, true);
            if self.title_card && !lines.is_empty() {
                let bar = w / 6;
                let y = top + block + MARGIN / 4;
                canvas.fill((w - bar) / 2, y, (w + bar) / 2, y + 6, accent);
            }
        }
        canvas
    }
}

fn scene_card(scene: &Scene) -> Card<'_> {
    Card {
        hash: fnv1a(scene.visual_prompt.as_bytes()),
        title_card: false,
        heading: &scene.visual_prompt,
        caption: &scene.narration,
        scene_index: scene.index,
    }
}

fn encode_error(e: png::EncodingError) -> MediaError {
    MediaError::GenerationFailed(format!("png encoding: {e}"))
}

/// The frames of an APNG after the first (whole) one: each redraws the
/// full-width rows from `y` down.
struct Updates {
    /// The first frame's delay, in hundredths of a second.
    first_delay: u16,
    y: u32,
    /// (delay in hundredths of a second, RGB rows) per later frame.
    frames: Vec<(u16, Vec<u8>)>,
}

/// A PNG of `first`, or with `updates` an APNG whose first frame is it.
fn encode(first: &Canvas, updates: Option<&Updates>) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, first.width, first.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Gradients are constant along rows and text is sparse: `Sub`
        // filtering and the fast deflater compress them well, quickly.
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Sub);
        if let Some(updates) = updates {
            encoder
                .set_animated(1 + updates.frames.len() as u32, 0)
                .map_err(encode_error)?;
        }
        let mut writer = encoder.write_header().map_err(encode_error)?;
        if let Some(updates) = updates {
            writer
                .set_frame_delay(updates.first_delay, 100)
                .map_err(encode_error)?;
        }
        writer
            .write_image_data(&first.pixels)
            .map_err(encode_error)?;
        if let Some(updates) = updates.filter(|u| !u.frames.is_empty()) {
            // Each later frame stays on the canvas (dispose: none) and
            // replaces what is under it (blend: source).
            writer
                .set_frame_dimension(first.width, first.height - updates.y)
                .map_err(encode_error)?;
            writer
                .set_frame_position(0, updates.y)
                .map_err(encode_error)?;
            writer
                .set_dispose_op(png::DisposeOp::None)
                .map_err(encode_error)?;
            writer
                .set_blend_op(png::BlendOp::Source)
                .map_err(encode_error)?;
            for (delay, rows) in &updates.frames {
                writer.set_frame_delay(*delay, 100).map_err(encode_error)?;
                writer.write_image_data(rows).map_err(encode_error)?;
            }
        }
        writer.finish().map_err(encode_error)?;
    }
    Ok(out)
}

/// A still PNG of a scene: its visual prompt large, its narration as the
/// caption.
///
/// # Errors
///
/// [`MediaError::GenerationFailed`] if PNG encoding fails.
pub fn still(scene: &Scene, aspect: AspectRatio) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let canvas = scene_card(scene).render(aspect);
    Ok((MediaFormat::Png, encode(&canvas, None)?))
}

/// The frame delays of a clip, in hundredths of a second: `count` frames
/// adding up to exactly `duration_seconds`.
fn clip_delays(duration_seconds: u32, count: u32) -> Result<Vec<u16>, MediaError> {
    let total = u64::from(duration_seconds) * 100;
    let base = total / u64::from(count);
    (0..count)
        .map(|i| {
            let delay = if i + 1 == count {
                total - base * u64::from(count - 1)
            } else {
                base
            };
            u16::try_from(delay).map_err(|_| {
                MediaError::GenerationFailed(format!("clip of {duration_seconds}s is too long"))
            })
        })
        .collect()
}

/// An animated PNG lasting exactly the scene's duration: up to
/// [`MAX_CLIP_FRAMES`] frames of the still picture with a progress bar
/// filling along the bottom edge. The first frame is the whole picture; the
/// later ones only redraw the bar's rows, so a clip is barely larger than a
/// still.
///
/// # Errors
///
/// [`MediaError::GenerationFailed`] if PNG encoding fails or the scene is
/// too long for the frame delays (over 10 minutes).
pub fn clip(scene: &Scene, aspect: AspectRatio) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let count = scene.duration_seconds.clamp(2, MAX_CLIP_FRAMES);
    let delays = clip_delays(scene.duration_seconds, count)?;
    let card = scene_card(scene);
    let mut first = card.render(aspect);
    let accent = colour(card.hash, 40, 150, 250);
    let (w, h) = (first.width, first.height);
    let y = h - PROGRESS_HEIGHT;
    // The bar's rows without the bar; each frame draws its bar on a copy.
    let strip = Canvas {
        width: w,
        height: PROGRESS_HEIGHT,
        pixels: first.pixels[(y * w * 3) as usize..].to_vec(),
    };
    let bar = |i: u32| {
        let mut rows = strip.clone();
        let done = w * (i + 1) / count;
        rows.fill(0, 0, done, PROGRESS_HEIGHT, accent);
        // A brighter head on the bar.
        rows.fill(
            done.saturating_sub(w / 40),
            0,
            done,
            PROGRESS_HEIGHT,
            [255; 3],
        );
        rows.pixels
    };
    first.pixels[(y * w * 3) as usize..].copy_from_slice(&bar(0));
    let updates = Updates {
        first_delay: delays[0],
        y,
        frames: (1..count).map(|i| (delays[i as usize], bar(i))).collect(),
    };
    Ok((MediaFormat::Apng, encode(&first, Some(&updates))?))
}

/// A title card PNG: the video title large and bold on a dark background,
/// the scene's narration as the caption.
///
/// # Errors
///
/// [`MediaError::GenerationFailed`] if PNG encoding fails.
pub fn title_card(
    title: &str,
    scene: &Scene,
    aspect: AspectRatio,
) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let card = Card {
        hash: fnv1a(title.as_bytes()),
        title_card: true,
        heading: title,
        caption: &scene.narration,
        scene_index: scene.index,
    };
    Ok((MediaFormat::Png, encode(&card.render(aspect), None)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular(size: f32) -> Face {
        face(&fonts().regular, size)
    }

    #[test]
    fn fonts_parse_and_have_latin_glyphs() {
        let face = regular(30.0);
        assert_ne!(face.glyph_id('A'), GlyphId(0));
        assert_ne!(face.glyph_id('…'), GlyphId(0));
        assert_ne!(fonts().bold.glyph_id('é'), GlyphId(0));
        assert!(text_width(&face, "Hello") > text_width(&face, "Hell"));
        assert!(text_width(&face, "") == 0.0);
    }

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let face = regular(CAPTION_SIZE);
        let long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(3);
        let texts = [
            "A fox wakes up in the snow and walks across the frozen lake at dawn".to_owned(),
            format!("short {long_word} words after"),
            "日本語のテキストは空白なしで続きます。東京の夜景と富士山の朝焼け".to_owned(),
            "emoji 🦊🐟🌊🔥 mixed with text ✨ and \u{0}control\u{7} chars\ttabs\nnewlines"
                .to_owned(),
            "\u{200b}\u{301}\u{fffd} combining e\u{301} and zero width".to_owned(),
        ];
        for max_width in [120.0, 300.0, 624.0, 1184.0] {
            for text in &texts {
                let lines = wrap(&face, text, max_width);
                assert!(!lines.is_empty(), "{text:?}");
                for line in &lines {
                    assert!(
                        text_width(&face, line) <= max_width,
                        "{line:?} wider than {max_width}"
                    );
                    assert!(!line.is_empty());
                }
                // Nothing is lost but whitespace.
                let joined: String = lines.concat().split_whitespace().collect();
                let original: String = text.split_whitespace().collect();
                assert_eq!(joined, original);
            }
        }
        // A width narrower than one glyph still makes progress.
        let lines = wrap(&face, "abc", 1.0);
        assert_eq!(lines, ["a", "b", "c"]);
        assert!(wrap(&face, "   ", 100.0).is_empty());
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let face = regular(CAPTION_SIZE);
        let text = "word ".repeat(200);
        let lines = wrap_lines(&face, &text, 600.0, CAPTION_LINES);
        assert_eq!(lines.len(), CAPTION_LINES);
        assert!(lines[2].ends_with('…'));
        assert!(lines.iter().all(|l| text_width(&face, l) <= 600.0));
        let lines = wrap_lines(&face, "A short one.", 600.0, CAPTION_LINES);
        assert_eq!(lines, ["A short one."]);
        let cjk = "東".repeat(500);
        let lines = wrap_lines(&face, &cjk, 300.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
    }

    #[test]
    fn the_label_fits_the_narrowest_frame() {
        let (w, _) = frame_size(AspectRatio::Portrait);
        let face = regular(LABEL_SIZE);
        assert!(text_width(&face, LABEL) <= (w - 2 * MARGIN) as f32);
        assert!(text_width(&face, TITLE_CARD_LABEL) <= (w - 2 * MARGIN) as f32);
    }

    #[test]
    fn clip_delays_add_up() {
        for duration in [1, 2, 3, 5, 7, 10, 11, 13, 60, 299] {
            let count = duration.clamp(2, MAX_CLIP_FRAMES);
            let delays = clip_delays(duration, count).unwrap();
            assert_eq!(delays.len(), count as usize);
            let sum: u32 = delays.iter().map(|&d| u32::from(d)).sum();
            assert_eq!(sum, duration * 100, "{duration}s");
        }
        assert!(clip_delays(10_000, MAX_CLIP_FRAMES).is_err());
    }
}
