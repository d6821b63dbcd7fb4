//! MP4 clips (Veo): the H.264 track demuxed with the `mp4` crate and decoded
//! with OpenH264 as the scene plays, one picture held at a time.

use std::collections::VecDeque;
use std::io::Cursor;

use mp4::{MediaType, Mp4Reader, TrackType};
use openh264::OpenH264API;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;

use crate::yuv::{Plane, Yuv420};

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// A clip being played: pictures come out in presentation order.
pub(crate) struct Clip {
    reader: Mp4Reader<Cursor<Vec<u8>>>,
    track_id: u32,
    sample_count: u32,
    /// The next sample to decode (1-based, as the `mp4` crate counts).
    next_sample: u32,
    length_size: usize,
    decoder: Decoder,
    /// Presentation times of the pictures, in seconds from the first.
    times: Vec<f64>,
    /// Pictures decoded but not yet shown.
    pending: VecDeque<Yuv420>,
    /// How many pictures have been taken from the decoder.
    taken: usize,
    flushed: bool,
    current: Option<Yuv420>,
    /// Whether `current` changed since it was last returned.
    fresh: bool,
}

/// The most samples a clip may have: 10 minutes at 120 fps. A count read
/// from a malformed file never sizes an allocation beyond it.
const MAX_CLIP_SAMPLES: u32 = 600 * 120;

impl Clip {
    /// Opens the first H.264 video track of an MP4 file.
    pub(crate) fn open(bytes: Vec<u8>) -> Result<Self, String> {
        let size = bytes.len() as u64;
        let reader =
            Mp4Reader::read_header(Cursor::new(bytes), size).map_err(|e| format!("MP4: {e}"))?;
        let track = reader
            .tracks()
            .values()
            .filter(|t| matches!(t.track_type(), Ok(TrackType::Video)))
            .min_by_key(|t| t.track_id())
            .ok_or("MP4 clip has no video track")?;
        if !matches!(track.media_type(), Ok(MediaType::H264)) {
            return Err("MP4 clip's video is not H.264".into());
        }
        let track_id = track.track_id();
        let avc1 = track
            .trak
            .mdia
            .minf
            .stbl
            .stsd
            .avc1
            .as_ref()
            .ok_or("MP4 clip without avc1")?;
        let length_size = usize::from(avc1.avcc.length_size_minus_one & 3) + 1;
        let mut headers = Vec::new();
        for set in avc1
            .avcc
            .sequence_parameter_sets
            .iter()
            .chain(&avc1.avcc.picture_parameter_sets)
        {
            headers.extend_from_slice(&START_CODE);
            headers.extend_from_slice(&set.bytes);
        }
        let sample_count = track.sample_count();
        if sample_count > MAX_CLIP_SAMPLES {
            return Err(format!(
                "MP4 clip claims {sample_count} samples (at most {MAX_CLIP_SAMPLES})"
            ));
        }
        if sample_count == 0 {
            return Err("MP4 clip's video track is empty".into());
        }
        let timescale = f64::from(track.timescale().max(1));
        let mut times = presentation_times(track, sample_count);
        times.sort_unstable();
        let first = times[0];
        let times = times
            .into_iter()
            .map(|t| (t - first) as f64 / timescale)
            .collect();

        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| format!("H.264 decoder: {e}"))?;
        decoder
            .decode(&headers)
            .map_err(|e| format!("MP4 clip SPS / PPS: {e}"))?;
        Ok(Self {
            reader,
            track_id,
            sample_count,
            next_sample: 1,
            length_size,
            decoder,
            times,
            pending: VecDeque::new(),
            taken: 0,
            flushed: false,
            current: None,
            fresh: false,
        })
    }

    /// The picture shown at `seconds` into the clip, if it differs from the
    /// one returned last (the last picture is held after the end).
    pub(crate) fn picture_at(&mut self, seconds: f64) -> Result<Option<&Yuv420>, String> {
        while self.current.is_none() || self.next_start().is_some_and(|t| t <= seconds + 1e-6) {
            match self.next_picture()? {
                Some(picture) => {
                    self.current = Some(picture);
                    self.fresh = true;
                }
                None if self.current.is_none() => {
                    return Err("MP4 clip decoded to no picture".into());
                }
                None => break,
            }
        }
        if std::mem::take(&mut self.fresh) {
            Ok(self.current.as_ref())
        } else {
            Ok(None)
        }
    }

    /// When the next picture starts, if there is one.
    fn next_start(&self) -> Option<f64> {
        self.times.get(self.taken).copied()
    }

    /// The next picture in presentation order.
    fn next_picture(&mut self) -> Result<Option<Yuv420>, String> {
        loop {
            if let Some(picture) = self.pending.pop_front() {
                self.taken += 1;
                return Ok(Some(picture));
            }
            if self.next_sample > self.sample_count {
                if self.flushed {
                    return Ok(None);
                }
                self.flushed = true;
                let rest = self
                    .decoder
                    .flush_remaining()
                    .map_err(|e| format!("H.264 decoder: {e}"))?;
                self.pending.extend(rest.iter().map(copy_picture));
                continue;
            }
            let sample = self
                .reader
                .read_sample(self.track_id, self.next_sample)
                .map_err(|e| format!("MP4 clip sample {}: {e}", self.next_sample))?
                .ok_or_else(|| format!("MP4 clip sample {} missing", self.next_sample))?;
            self.next_sample += 1;
            let annex_b = to_annex_b(&sample.bytes, self.length_size)?;
            if let Some(picture) = self
                .decoder
                .decode(&annex_b)
                .map_err(|e| format!("H.264 decoder: {e}"))?
            {
                self.pending.push_back(copy_picture(&picture));
            }
        }
    }
}

/// The presentation time of each sample, in the track's timescale.
fn presentation_times(track: &mp4::Mp4Track, sample_count: u32) -> Vec<i64> {
    let stbl = &track.trak.mdia.minf.stbl;
    let mut decode_times = Vec::with_capacity(sample_count as usize);
    let mut t = 0i64;
    // A malformed table may claim more samples than the track has: never
    // allocate past the track's own count.
    'entries: for entry in &stbl.stts.entries {
        for _ in 0..entry.sample_count {
            if decode_times.len() >= sample_count as usize {
                break 'entries;
            }
            decode_times.push(t);
            t += i64::from(entry.sample_delta);
        }
    }
    decode_times.resize(sample_count as usize, t);
    if let Some(ctts) = &stbl.ctts {
        let offsets = ctts
            .entries
            .iter()
            .flat_map(|e| std::iter::repeat_n(i64::from(e.sample_offset), e.sample_count as usize));
        for (time, offset) in decode_times.iter_mut().zip(offsets) {
            *time += offset;
        }
    }
    decode_times
}

/// Length-prefixed NAL units to an Annex B byte stream.
fn to_annex_b(sample: &[u8], length_size: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(sample.len() + 16);
    let mut pos = 0;
    while pos < sample.len() {
        let header = sample
            .get(pos..pos + length_size)
            .ok_or("MP4 clip sample: truncated NAL length")?;
        let len = header
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        pos += length_size;
        let nal = sample
            .get(pos..pos + len)
            .ok_or("MP4 clip sample: NAL unit past the sample's end")?;
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(nal);
        pos += len;
    }
    Ok(out)
}

/// Copies a decoder picture (strided planes) into an owned [`Yuv420`].
fn copy_picture(picture: &DecodedYUV<'_>) -> Yuv420 {
    let (w, h) = picture.dimensions();
    let (cw, ch) = picture.dimensions_uv();
    let (sy, su, sv) = picture.strides();
    let copy = |data: &[u8], stride: usize, width: usize, height: usize| {
        let mut plane = Plane::new(width, height);
        for (row, out) in plane.data.chunks_exact_mut(width).enumerate() {
            out.copy_from_slice(&data[row * stride..row * stride + width]);
        }
        plane
    };
    Yuv420 {
        y: copy(picture.y(), sy, w, h),
        u: copy(picture.u(), su, cw, ch),
        v: copy(picture.v(), sv, cw, ch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_conversion_and_truncation() {
        let sample = [0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x41];
        assert_eq!(
            to_annex_b(&sample, 4).unwrap(),
            [0, 0, 0, 1, 0x65, 0xaa, 0, 0, 0, 1, 0x41]
        );
        assert!(to_annex_b(&[0, 0, 0, 9, 1], 4).is_err());
        assert!(to_annex_b(&[0, 0], 4).is_err());
    }

    #[test]
    fn garbage_is_not_a_clip() {
        assert!(Clip::open(b"definitely not an mp4 file".to_vec()).is_err());
    }
}
