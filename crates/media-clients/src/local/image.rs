//! Deterministic PNG / APNG pictures: gradients and simple shapes whose
//! colours come from a hash of the scene text. No glyphs are drawn: a title
//! card shows the title as a row of bars, one per word.

use ytvc_domain::AspectRatio;
use ytvc_domain::media::{MediaError, MediaFormat};

use super::fnv1a;

/// The picture size of the local provider for an aspect ratio.
#[must_use]
pub fn frame_size(aspect: AspectRatio) -> (u32, u32) {
    match aspect {
        AspectRatio::Landscape => (320, 180),
        AspectRatio::Portrait => (180, 320),
        AspectRatio::Square => (240, 240),
    }
}

type Rgb = [u8; 3];

/// An RGB picture.
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

    fn set(&mut self, x: u32, y: u32, c: Rgb) {
        if x < self.width && y < self.height {
            let i = ((y * self.width + x) * 3) as usize;
            self.pixels[i..i + 3].copy_from_slice(&c);
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
            for x in 0..self.width {
                self.set(x, y, c);
            }
        }
    }

    fn rect(&mut self, x: u32, y: u32, w: u32, h: u32, c: Rgb) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.set(xx, yy, c);
            }
        }
    }

    fn disc(&mut self, cx: u32, cy: u32, r: u32, c: Rgb) {
        let (cx, cy, r) = (i64::from(cx), i64::from(cy), i64::from(r));
        for y in (cy - r).max(0)..=(cy + r) {
            for x in (cx - r).max(0)..=(cx + r) {
                if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                    self.set(x as u32, y as u32, c);
                }
            }
        }
    }
}

/// A colour from 3 bytes of a hash, kept in a mid range so shapes show.
fn colour(hash: u64, shift: u32, lo: u8, hi: u8) -> Rgb {
    let span = u64::from(hi - lo) + 1;
    let byte = |k: u32| lo + ((hash >> (shift + 8 * k)) % span) as u8;
    [byte(0), byte(1), byte(2)]
}

/// The background and shapes of a scene (a still, or a clip's frame).
fn scene_picture(text: &str, aspect: AspectRatio) -> Canvas {
    let hash = fnv1a(text.as_bytes());
    let mut canvas = Canvas::new(aspect);
    canvas.gradient(colour(hash, 0, 40, 200), colour(hash, 24, 10, 120));
    let (w, h) = (canvas.width, canvas.height);
    let shapes = fnv1a(&hash.to_le_bytes());
    for k in 0..4u32 {
        let bits = shapes.rotate_left(k * 16);
        let x = (bits & 0xffff) as u32 % w;
        let y = ((bits >> 16) & 0xffff) as u32 % h;
        let r = 8 + ((bits >> 32) as u32 % (w.min(h) / 5));
        canvas.disc(x, y, r, colour(bits, 40, 120, 255));
    }
    canvas
}

fn encode_error(e: png::EncodingError) -> MediaError {
    MediaError::GenerationFailed(format!("png encoding: {e}"))
}

fn encode(frames: &[Canvas], delays_centis: &[u16]) -> Result<Vec<u8>, MediaError> {
    let first = &frames[0];
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, first.width, first.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Flat colours: `Sub` filtering and the fast deflater compress them
        // well, and stay quick in unoptimised builds.
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Sub);
        if frames.len() > 1 {
            encoder
                .set_animated(frames.len() as u32, 0)
                .map_err(encode_error)?;
        }
        let mut writer = encoder.write_header().map_err(encode_error)?;
        for (frame, &delay) in frames.iter().zip(delays_centis) {
            if frames.len() > 1 {
                writer.set_frame_delay(delay, 100).map_err(encode_error)?;
            }
            writer
                .write_image_data(&frame.pixels)
                .map_err(encode_error)?;
        }
        writer.finish().map_err(encode_error)?;
    }
    Ok(out)
}

/// A still PNG of a scene.
pub fn still(
    visual_prompt: &str,
    aspect: AspectRatio,
) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let canvas = scene_picture(visual_prompt, aspect);
    Ok((MediaFormat::Png, encode(&[canvas], &[0])?))
}

/// An animated PNG lasting exactly `duration_seconds`: up to 8 frames of the
/// scene picture with a bar sweeping from left to right.
pub fn clip(
    visual_prompt: &str,
    duration_seconds: u32,
    aspect: AspectRatio,
) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let count = duration_seconds.clamp(2, 8);
    let total = u64::from(duration_seconds) * 100;
    let base = total / u64::from(count);
    let mut frames = Vec::new();
    let mut delays = Vec::new();
    for i in 0..count {
        let mut canvas = scene_picture(visual_prompt, aspect);
        let (w, h) = (canvas.width, canvas.height);
        let x = w * i / count;
        canvas.rect(x, h - 12, w / count, 8, [255, 255, 255]);
        frames.push(canvas);
        let delay = if i + 1 == count {
            total - base * u64::from(count - 1)
        } else {
            base
        };
        delays.push(u16::try_from(delay).map_err(|_| {
            MediaError::GenerationFailed(format!("clip of {duration_seconds}s is too long"))
        })?);
    }
    Ok((MediaFormat::Apng, encode(&frames, &delays)?))
}

/// A title card PNG: a dark background from the title's hash, one bar per
/// title word (up to 12, in lines of 4) and one dot per scene number.
pub fn title_card(
    title: &str,
    scene_index: u32,
    aspect: AspectRatio,
) -> Result<(MediaFormat, Vec<u8>), MediaError> {
    let hash = fnv1a(title.as_bytes());
    let mut canvas = Canvas::new(aspect);
    canvas.gradient(colour(hash, 0, 10, 70), colour(hash, 24, 0, 40));
    let (w, h) = (canvas.width, canvas.height);
    let ink = colour(hash, 40, 200, 255);
    let unit = (w / 40).max(2);
    let words: Vec<&str> = title.split_whitespace().take(12).collect();
    let lines = words.chunks(4).count() as u32;
    let line_height = unit * 4;
    let mut y = h / 2 - (lines * line_height) / 2;
    for line in words.chunks(4) {
        let widths: Vec<u32> = line
            .iter()
            .map(|word| (word.chars().count() as u32).clamp(1, 10) * unit)
            .collect();
        let line_width = widths.iter().sum::<u32>() + unit * 2 * (widths.len() as u32 - 1);
        let mut x = w.saturating_sub(line_width) / 2;
        for width in widths {
            canvas.rect(x, y, width, unit * 2, ink);
            x += width + unit * 2;
        }
        y += line_height;
    }
    for k in 0..scene_index.min(12) {
        canvas.disc(unit * 3 + k * unit * 3, h - unit * 3, unit, ink);
    }
    Ok((MediaFormat::Png, encode(&[canvas], &[0])?))
}
