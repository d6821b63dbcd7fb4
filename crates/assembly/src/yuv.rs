//! Pictures in the encoder's format (8-bit YUV 4:2:0, BT.601 limited range)
//! and the two cheap operations the assembler needs on them: conversion from
//! RGB(A) and a fixed-point bilinear resample of a rectangle.

use openh264::formats::YUVSource;

/// One 8-bit plane, rows packed (`stride == width`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plane {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) data: Vec<u8>,
}

impl Plane {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0; width * height],
        }
    }
}

/// A 4:2:0 picture: full-size luma, half-size (rounded up) chroma planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Yuv420 {
    pub(crate) y: Plane,
    pub(crate) u: Plane,
    pub(crate) v: Plane,
}

impl Yuv420 {
    /// A black picture of `width`×`height`.
    pub(crate) fn new(width: usize, height: usize) -> Self {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let mut picture = Self {
            y: Plane::new(width, height),
            u: Plane::new(cw, ch),
            v: Plane::new(cw, ch),
        };
        picture.y.data.fill(16);
        picture.u.data.fill(128);
        picture.v.data.fill(128);
        picture
    }

    pub(crate) fn width(&self) -> usize {
        self.y.width
    }

    pub(crate) fn height(&self) -> usize {
        self.y.height
    }

    /// Converts packed 8-bit RGBA (`width * height * 4` bytes, alpha over
    /// black) with the BT.601 limited-range matrix; chroma is the average of
    /// each 2×2 block.
    pub(crate) fn from_rgba(rgba: &[u8], width: usize, height: usize) -> Self {
        debug_assert_eq!(rgba.len(), width * height * 4);
        let mut out = Self::new(width, height);
        let px = |x: usize, y: usize| -> [i32; 3] {
            let i = (y * width + x) * 4;
            let a = i32::from(rgba[i + 3]);
            let c = |v: u8| (i32::from(v) * a + 127) / 255;
            [c(rgba[i]), c(rgba[i + 1]), c(rgba[i + 2])]
        };
        for yy in 0..height {
            let row = &mut out.y.data[yy * width..(yy + 1) * width];
            for (xx, luma) in row.iter_mut().enumerate() {
                let [r, g, b] = px(xx, yy);
                *luma = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
            }
        }
        let (cw, ch) = (out.u.width, out.u.height);
        for cy in 0..ch {
            for cx in 0..cw {
                let (x0, y0) = (cx * 2, cy * 2);
                let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
                let mut sum = [0i32; 3];
                for [r, g, b] in [px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1)] {
                    sum[0] += r;
                    sum[1] += g;
                    sum[2] += b;
                }
                let [r, g, b] = sum.map(|s| (s + 2) / 4);
                out.u.data[cy * cw + cx] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
                out.v.data[cy * cw + cx] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
            }
        }
        out
    }

    /// Resamples the source rectangle `rect` (in luma pixels of `self`,
    /// `[x, y, width, height]`, may be fractional) onto all of `dst`.
    pub(crate) fn resample_into(&self, rect: [f64; 4], dst: &mut Yuv420) {
        resample_plane(&self.y, rect, &mut dst.y);
        let half = rect.map(|v| v / 2.0);
        resample_plane(&self.u, half, &mut dst.u);
        resample_plane(&self.v, half, &mut dst.v);
    }

    /// The rectangle of `self` that covers an output of `out_w`×`out_h`
    /// (same aspect ratio, centred, cropping the excess).
    pub(crate) fn cover_rect(&self, out_w: usize, out_h: usize) -> [f64; 4] {
        let (sw, sh) = (self.width() as f64, self.height() as f64);
        let scale = (out_w as f64 / sw).max(out_h as f64 / sh);
        let (w, h) = (out_w as f64 / scale, out_h as f64 / scale);
        [(sw - w) / 2.0, (sh - h) / 2.0, w, h]
    }

    /// Halves the picture `factor` times with a 2×2 box filter (cheap
    /// anti-aliasing before a large downscale).
    pub(crate) fn halve(&self) -> Self {
        Self {
            y: halve_plane(&self.y),
            u: halve_plane(&self.u),
            v: halve_plane(&self.v),
        }
    }
}

impl YUVSource for Yuv420 {
    fn dimensions(&self) -> (usize, usize) {
        (self.y.width, self.y.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.y.width, self.u.width, self.v.width)
    }

    fn y(&self) -> &[u8] {
        &self.y.data
    }

    fn u(&self) -> &[u8] {
        &self.u.data
    }

    fn v(&self) -> &[u8] {
        &self.v.data
    }
}

fn halve_plane(src: &Plane) -> Plane {
    let (w, h) = (src.width.div_ceil(2).max(1), src.height.div_ceil(2).max(1));
    let mut out = Plane::new(w, h);
    for y in 0..h {
        let (y0, y1) = ((2 * y).min(src.height - 1), (2 * y + 1).min(src.height - 1));
        for x in 0..w {
            let (x0, x1) = ((2 * x).min(src.width - 1), (2 * x + 1).min(src.width - 1));
            let at = |xx: usize, yy: usize| u32::from(src.data[yy * src.width + xx]);
            out.data[y * w + x] =
                ((at(x0, y0) + at(x1, y0) + at(x0, y1) + at(x1, y1) + 2) / 4) as u8;
        }
    }
    out
}

/// Source index and 8-bit weight of the next sample, for each destination
/// coordinate: `dst[i]` samples `src[idx] * (256 - w) + src[idx + 1] * w`.
fn taps(
    src_len: usize,
    start: f64,
    len: f64,
    dst_len: usize,
    idx: &mut Vec<u32>,
    w: &mut Vec<u16>,
) {
    idx.clear();
    w.clear();
    let step = len / dst_len as f64;
    let last = src_len.saturating_sub(1) as f64;
    for i in 0..dst_len {
        let pos = (start + (i as f64 + 0.5) * step - 0.5).clamp(0.0, last);
        let mut base = pos.floor() as usize;
        let mut frac = ((pos - base as f64) * 256.0).round() as u16;
        if base + 1 >= src_len {
            // Last column: sample it fully through the "next" tap.
            base = src_len.saturating_sub(2);
            frac = if src_len >= 2 { 256 } else { 0 };
        }
        idx.push(base as u32);
        w.push(frac);
    }
}

/// Bilinear resample of `rect` of `src` onto `dst`, in 8-bit fixed point:
/// for each output row, the two source rows are blended vertically over
/// just the columns the row uses (few when upscaling), then each output
/// pixel is one horizontal blend of that blended row.
fn resample_plane(src: &Plane, rect: [f64; 4], dst: &mut Plane) {
    let (mut xi, mut xw, mut yi, mut yw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    taps(src.width, rect[0], rect[2], dst.width, &mut xi, &mut xw);
    taps(src.height, rect[1], rect[3], dst.height, &mut yi, &mut yw);
    let sw = src.width;
    let single_col = sw < 2;
    let single_row = src.height < 2;
    // Source columns used: the first tap through the last tap's neighbour.
    let lo = xi.first().map_or(0, |&x| x as usize);
    let hi = xi
        .last()
        .map_or(0, |&x| x as usize + usize::from(!single_col))
        .min(sw - 1);
    // Horizontal taps relative to `lo`, and the neighbour's offset.
    let rel: Vec<u32> = xi.iter().map(|&x| x - lo as u32).collect();
    let next = usize::from(!single_col);
    // The vertically blended row, in 8.8 fixed point (max 255 * 256).
    let mut blended = vec![0u16; hi - lo + 2];
    let mut previous: Option<(u32, u16)> = None;
    for (dy, row) in dst.data.chunks_exact_mut(dst.width).enumerate() {
        let key = (yi[dy], yw[dy]);
        if previous != Some(key) {
            previous = Some(key);
            let y0 = key.0 as usize;
            let y1 = if single_row { y0 } else { y0 + 1 };
            let wy = key.1;
            let r0 = &src.data[y0 * sw + lo..=y0 * sw + hi];
            let r1 = &src.data[y1 * sw + lo..=y1 * sw + hi];
            for ((b, &a0), &a1) in blended.iter_mut().zip(r0).zip(r1) {
                *b = u16::from(a0) * (256 - wy) + u16::from(a1) * wy;
            }
        }
        for ((out, &x), &wx) in row.iter_mut().zip(&rel).zip(&xw) {
            let x0 = x as usize;
            let wx = u32::from(wx);
            let a = u32::from(blended[x0]);
            let b = u32::from(blended[x0 + next]);
            *out = ((a * (256 - wx) + b * wx + 32768) >> 16) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solid_colours_convert_to_bt601_limited_range() {
        let white = Yuv420::from_rgba(&[255, 255, 255, 255].repeat(4), 2, 2);
        assert_eq!(
            (white.y.data[0], white.u.data[0], white.v.data[0]),
            (235, 128, 128)
        );
        let black = Yuv420::from_rgba(&[0, 0, 0, 255].repeat(4), 2, 2);
        assert_eq!(
            (black.y.data[0], black.u.data[0], black.v.data[0]),
            (16, 128, 128)
        );
        let red = Yuv420::from_rgba(&[255, 0, 0, 255].repeat(4), 2, 2);
        assert_eq!((red.y.data[0], red.u.data[0], red.v.data[0]), (82, 90, 240));
        let transparent = Yuv420::from_rgba(&[255, 0, 0, 0].repeat(4), 2, 2);
        assert_eq!(transparent.y.data[0], 16);
    }

    #[test]
    fn resampling_keeps_flat_areas_and_edges() {
        let mut src = Plane::new(4, 4);
        src.data.fill(200);
        let mut dst = Plane::new(10, 7);
        resample_plane(&src, [0.0, 0.0, 4.0, 4.0], &mut dst);
        assert!(dst.data.iter().all(|&v| v == 200));

        // A left-dark / right-bright source keeps its halves when upscaled.
        let mut src = Plane::new(2, 1);
        src.data.copy_from_slice(&[0, 255]);
        let mut dst = Plane::new(8, 1);
        resample_plane(&src, [0.0, 0.0, 2.0, 1.0], &mut dst);
        assert_eq!(dst.data[0], 0);
        assert_eq!(dst.data[7], 255);
        assert!(dst.data.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn cover_rect_crops_the_excess() {
        let pic = Yuv420::new(400, 100);
        let [x, y, w, h] = pic.cover_rect(100, 100);
        assert_eq!([x, y, w, h], [150.0, 0.0, 100.0, 100.0]);
        let halved = pic.halve();
        assert_eq!((halved.width(), halved.height()), (200, 50));
    }
}
