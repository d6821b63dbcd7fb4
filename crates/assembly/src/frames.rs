//! Scene visuals: decoding each input format once, then producing the
//! scene's output pictures one by one (stills with a slow pan / zoom, clips
//! as they are, frozen on their last picture when shorter than the scene).

use std::io::Cursor;

use ytvc_domain::media::{MediaBlob, MediaFormat, VisualSource};

use crate::clip::Clip;
use crate::yuv::Yuv420;

/// The largest input picture side accepted (a guard against decompression
/// bombs; Imagen and Veo stay far below).
const MAX_SIDE: u32 = 8192;

/// A decoded scene visual, ready to render output pictures.
pub(crate) enum SceneVisual {
    /// A still or title card: one picture, shown with a pan / zoom.
    Still(Still),
    /// An animation (APNG): pictures with their start times.
    Animation(Animation),
    /// An MP4 clip, decoded as it plays.
    Clip(Box<Clip>),
}

/// Where the scene is in the video and how the output looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SceneTiming {
    /// 1-based scene index (varies the pan direction).
    pub(crate) index: u32,
    /// Output frames in the scene.
    pub(crate) frames: u32,
    /// Output frame rate.
    pub(crate) fps: u32,
    /// A still's pan / zoom moves every this many frames.
    pub(crate) motion_step: u32,
}

impl SceneVisual {
    /// Decodes `blob` for an output of `width`×`height`.
    pub(crate) fn decode(
        blob: &MediaBlob,
        source: VisualSource,
        width: usize,
        height: usize,
    ) -> Result<Self, String> {
        let visual = match blob.format {
            MediaFormat::Png => {
                Self::Still(Still::new(decode_png_still(&blob.bytes)?, width, height))
            }
            MediaFormat::Jpeg => Self::Still(Still::new(decode_jpeg(&blob.bytes)?, width, height)),
            MediaFormat::Apng => {
                let animation = decode_apng(&blob.bytes)?;
                if animation.pictures.len() == 1 || source != VisualSource::Clip {
                    // A single picture, or an image that is not a clip: a still.
                    let first = animation
                        .pictures
                        .into_iter()
                        .next()
                        .ok_or("APNG has no frames")?;
                    Self::Still(Still::new(first, width, height))
                } else {
                    Self::Animation(animation)
                }
            }
            MediaFormat::Mp4 => Self::Clip(Box::new(Clip::open(blob.bytes.clone())?)),
            other => return Err(format!("a {other:?} file is not a picture or a video")),
        };
        Ok(visual)
    }

    /// Writes output frame `frame` (0-based within the scene) into `out`
    /// and tells whether it changed. `out` holds what this visual rendered
    /// last; when the picture does not change it is left as it is and
    /// `false` is returned (the first frame of a visual is always `true`).
    pub(crate) fn render(
        &mut self,
        frame: u32,
        timing: SceneTiming,
        out: &mut Yuv420,
    ) -> Result<bool, String> {
        let mut changed = false;
        let seconds = f64::from(frame) / f64::from(timing.fps);
        match self {
            Self::Still(still) => {
                // The motion advances every `motion_step` frames (and on the
                // last one); in between the picture repeats.
                let step = timing.motion_step.max(1);
                let last = timing.frames.saturating_sub(1);
                let position = if frame == last {
                    last
                } else {
                    frame - frame % step
                };
                if still.last_position != Some(position) {
                    changed = true;
                    still.last_position = Some(position);
                    let progress = if last > 0 {
                        f64::from(position) / f64::from(last)
                    } else {
                        0.0
                    };
                    let duration = f64::from(timing.frames) / f64::from(timing.fps);
                    let rect = still.ken_burns(timing.index, progress, duration);
                    still.picture.resample_into(rect, out);
                }
            }
            Self::Animation(animation) => {
                let shown = animation.index_at(seconds);
                if animation.last_rendered != Some(shown) {
                    changed = true;
                    let picture = &animation.pictures[shown];
                    picture.resample_into(picture.cover_rect(out.width(), out.height()), out);
                    animation.last_rendered = Some(shown);
                }
            }
            Self::Clip(clip) => {
                if let Some(picture) = clip.picture_at(seconds)? {
                    changed = true;
                    picture.resample_into(picture.cover_rect(out.width(), out.height()), out);
                }
            }
        }
        Ok(changed)
    }
}

/// A still picture and its cover rectangle in the output frame's shape.
pub(crate) struct Still {
    picture: Yuv420,
    cover: [f64; 4],
    /// The frame whose motion position was rendered last.
    last_position: Option<u32>,
}

/// The largest zoom of the pan / zoom, reached over 7 s or more.
const MAX_ZOOM: f64 = 0.10;

/// Pan paths as (start, end) positions in the free range of each axis.
const PANS: [([f64; 2], [f64; 2]); 4] = [
    ([0.35, 0.5], [0.65, 0.5]),
    ([0.5, 0.5], [0.5, 0.5]),
    ([0.65, 0.4], [0.35, 0.6]),
    ([0.5, 0.35], [0.5, 0.65]),
];

impl Still {
    /// Prepares `picture` for an output of `width`×`height`: pictures much
    /// larger than the output are halved first (box filter), so the
    /// per-frame bilinear resample never skips source pixels.
    fn new(mut picture: Yuv420, width: usize, height: usize) -> Self {
        loop {
            let cover = picture.cover_rect(width, height);
            let smallest_crop = cover[2] / (1.0 + MAX_ZOOM);
            if smallest_crop < 2.0 * width as f64 || picture.width() < 4 || picture.height() < 4 {
                return Self {
                    picture,
                    cover,
                    last_position: None,
                };
            }
            picture = picture.halve();
        }
    }

    /// The source rectangle at `progress` (0..=1) through a scene of
    /// `duration` seconds: a slow zoom (in on odd scenes, out on even ones)
    /// and a pan whose path depends on the scene index. Deterministic.
    fn ken_burns(&self, index: u32, progress: f64, duration: f64) -> [f64; 4] {
        let amount = (duration * 0.015).min(MAX_ZOOM);
        let t = progress.clamp(0.0, 1.0);
        let zoom = if index % 2 == 1 {
            1.0 + amount * t
        } else {
            1.0 + amount * (1.0 - t)
        };
        let [_, _, cw, ch] = self.cover;
        let (w, h) = (cw / zoom, ch / zoom);
        let (sw, sh) = (self.picture.width() as f64, self.picture.height() as f64);
        let (from, to) = PANS[(index as usize) % PANS.len()];
        let fx = from[0] + (to[0] - from[0]) * t;
        let fy = from[1] + (to[1] - from[1]) * t;
        let x = (sw - w).max(0.0) * fx;
        let y = (sh - h).max(0.0) * fy;
        [x, y, w, h]
    }
}

/// An animation's pictures (at source size) and when each starts.
pub(crate) struct Animation {
    pictures: Vec<Yuv420>,
    /// Start time of each picture, in seconds.
    starts: Vec<f64>,
    last_rendered: Option<usize>,
}

impl Animation {
    /// The picture shown at `seconds` (the last one after the end).
    fn index_at(&self, seconds: f64) -> usize {
        // Tolerate rounding: a picture starting within 1 µs counts as shown.
        self.starts
            .partition_point(|&start| start <= seconds + 1e-6)
            .saturating_sub(1)
    }
}

fn check_size(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!("picture size {width}x{height} out of range"));
    }
    Ok(())
}

/// 8-bit samples of `color` (after the png crate's normalisation) to RGBA.
fn to_rgba(samples: &[u8], color: png::ColorType, pixels: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(pixels * 4);
    match color {
        png::ColorType::Rgba => out.extend_from_slice(&samples[..pixels * 4]),
        png::ColorType::Rgb => {
            for p in samples.chunks_exact(3).take(pixels) {
                out.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        png::ColorType::Grayscale => {
            for &g in &samples[..pixels] {
                out.extend_from_slice(&[g, g, g, 255]);
            }
        }
        png::ColorType::GrayscaleAlpha => {
            for p in samples.chunks_exact(2).take(pixels) {
                out.extend_from_slice(&[p[0], p[0], p[0], p[1]]);
            }
        }
        png::ColorType::Indexed => return Err("PNG palette was not expanded".into()),
    }
    Ok(out)
}

fn png_reader(bytes: &[u8]) -> Result<png::Reader<Cursor<&[u8]>>, String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let reader = decoder.read_info().map_err(|e| format!("PNG: {e}"))?;
    let info = reader.info();
    check_size(info.width, info.height)?;
    Ok(reader)
}

/// The first picture of a PNG (the default image of an APNG).
fn decode_png_still(bytes: &[u8]) -> Result<Yuv420, String> {
    let mut reader = png_reader(bytes)?;
    let size = reader.output_buffer_size().ok_or("PNG too large")?;
    let mut buf = vec![0; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {e}"))?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let rgba = to_rgba(&buf[..frame.buffer_size()], frame.color_type, w * h)?;
    Ok(Yuv420::from_rgba(&rgba, w, h))
}

/// Every animation frame of an APNG, composed on its canvas (blend and
/// dispose operations applied), with their start times.
fn decode_apng(bytes: &[u8]) -> Result<Animation, String> {
    let mut reader = png_reader(bytes)?;
    let (cw, ch) = (reader.info().width as usize, reader.info().height as usize);
    let Some(control) = reader.info().animation_control else {
        // A plain PNG: one picture.
        drop(reader);
        return Ok(Animation {
            pictures: vec![decode_png_still(bytes)?],
            starts: vec![0.0],
            last_rendered: None,
        });
    };
    let default_is_frame = reader.info().frame_control.is_some();
    let count = control.num_frames as usize + usize::from(!default_is_frame);
    let size = reader.output_buffer_size().ok_or("APNG too large")?;
    let mut buf = vec![0; size];
    let mut canvas = vec![0u8; cw * ch * 4];
    let (mut pictures, mut starts) = (Vec::new(), Vec::new());
    let mut clock = 0.0;
    for _ in 0..count {
        let frame = reader
            .next_frame(&mut buf)
            .map_err(|e| format!("APNG: {e}"))?;
        let Some(fc) = reader.info().frame_control else {
            continue; // the default image, not part of the animation
        };
        let (fw, fh) = (frame.width as usize, frame.height as usize);
        let (fx, fy) = (fc.x_offset as usize, fc.y_offset as usize);
        if fx + fw > cw || fy + fh > ch {
            return Err("APNG frame outside the canvas".into());
        }
        let rgba = to_rgba(&buf[..frame.buffer_size()], frame.color_type, fw * fh)?;
        let saved = (fc.dispose_op == png::DisposeOp::Previous).then(|| canvas.clone());
        for row in 0..fh {
            for col in 0..fw {
                let s = &rgba[(row * fw + col) * 4..][..4];
                let d = &mut canvas[((fy + row) * cw + fx + col) * 4..][..4];
                if fc.blend_op == png::BlendOp::Source || s[3] == 255 {
                    d.copy_from_slice(s);
                } else if s[3] > 0 {
                    blend_over(s, d);
                }
            }
        }
        pictures.push(Yuv420::from_rgba(&canvas, cw, ch));
        starts.push(clock);
        let den = if fc.delay_den == 0 {
            100.0
        } else {
            f64::from(fc.delay_den)
        };
        clock += f64::from(fc.delay_num) / den;
        match fc.dispose_op {
            png::DisposeOp::None => {}
            png::DisposeOp::Background => {
                for row in 0..fh {
                    canvas[((fy + row) * cw + fx) * 4..][..fw * 4].fill(0);
                }
            }
            png::DisposeOp::Previous => {
                if let Some(saved) = saved {
                    canvas = saved;
                }
            }
        }
    }
    if pictures.is_empty() {
        return Err("APNG has no animation frames".into());
    }
    Ok(Animation {
        pictures,
        starts,
        last_rendered: None,
    })
}

/// Porter-Duff "over" of `s` onto `d`, non-premultiplied 8-bit RGBA.
fn blend_over(s: &[u8], d: &mut [u8]) {
    let sa = u32::from(s[3]);
    let da = u32::from(d[3]) * (255 - sa) / 255;
    let out_a = sa + da;
    for c in 0..3 {
        d[c] = ((u32::from(s[c]) * sa + u32::from(d[c]) * da) / out_a.max(1)) as u8;
    }
    d[3] = out_a as u8;
}

fn decode_jpeg(bytes: &[u8]) -> Result<Yuv420, String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| format!("JPEG: {e}"))?;
    let info = decoder.info().ok_or("JPEG without a header")?;
    check_size(u32::from(info.width), u32::from(info.height))?;
    let pixels = decoder.decode().map_err(|e| format!("JPEG: {e}"))?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    let n = w * h;
    let mut rgba = Vec::with_capacity(n * 4);
    match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            for &g in pixels.iter().take(n) {
                rgba.extend_from_slice(&[g, g, g, 255]);
            }
        }
        jpeg_decoder::PixelFormat::L16 => {
            for g in pixels.chunks_exact(2).take(n) {
                rgba.extend_from_slice(&[g[0], g[0], g[0], 255]);
            }
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            for p in pixels.chunks_exact(3).take(n) {
                rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            for p in pixels.chunks_exact(4).take(n) {
                let k = u32::from(p[3]);
                let c = |v: u8| (u32::from(v) * k / 255) as u8;
                rgba.extend_from_slice(&[c(p[0]), c(p[1]), c(p[2]), 255]);
            }
        }
    }
    if rgba.len() != n * 4 {
        return Err("JPEG pixel data truncated".into());
    }
    Ok(Yuv420::from_rgba(&rgba, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ken_burns_stays_inside_the_picture() {
        for (w, h) in [(1280, 720), (720, 1280), (720, 720)] {
            let still = Still::new(Yuv420::new(1024, 768), w, h);
            for index in 1..=6 {
                for step in 0..=10 {
                    let [x, y, rw, rh] = still.ken_burns(index, f64::from(step) / 10.0, 10.0);
                    assert!(x >= 0.0 && y >= 0.0, "{index} {step}");
                    assert!(x + rw <= 1024.0 + 1e-9 && y + rh <= 768.0 + 1e-9);
                    assert!((rw / rh - w as f64 / h as f64).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn huge_stills_are_halved_before_resampling() {
        let still = Still::new(Yuv420::new(4000, 3000), 1280, 720);
        assert_eq!(still.picture.width(), 2000);
    }

    #[test]
    fn animation_index_holds_the_last_picture() {
        let animation = Animation {
            pictures: vec![Yuv420::new(2, 2); 3],
            starts: vec![0.0, 0.5, 1.0],
            last_rendered: None,
        };
        assert_eq!(animation.index_at(0.0), 0);
        assert_eq!(animation.index_at(0.49), 0);
        assert_eq!(animation.index_at(0.5), 1);
        assert_eq!(animation.index_at(7.0), 2);
    }
}
