//! Muxing: the H.264 and AAC tracks into one MP4 with the `mp4` crate, then
//! rewritten "fast start" (`moov` before `mdat`) with an edit list that hides
//! the AAC encoder's priming samples.

use std::io::Cursor;

use mp4::{
    AacConfig, AudioObjectType, AvcConfig, Bytes, ChannelConfig, MediaConfig, Mp4Box, Mp4Config,
    Mp4Reader, Mp4Sample, Mp4Writer, SampleFreqIndex, TrackConfig, TrackType, WriteBox,
};

use crate::audio::{AacTrack, FRAME_SAMPLES, SAMPLE_RATE};
use crate::video::AccessUnit;

/// The movie (and video track) clock: 90 kHz, so 24, 25, 30… fps frames
/// and 48 kHz AAC frames all have exact integer durations.
pub const MOVIE_TIMESCALE: u32 = 90_000;

/// The encoded video track.
pub(crate) struct VideoTrack {
    pub(crate) width: u16,
    pub(crate) height: u16,
    pub(crate) sps: Vec<u8>,
    pub(crate) pps: Vec<u8>,
    pub(crate) fps: u32,
    pub(crate) samples: Vec<AccessUnit>,
}

/// Writes the MP4: video track 1, audio track 2, samples interleaved in
/// time order, both tracks presenting exactly `duration_seconds`.
pub(crate) fn write_mp4(
    video: VideoTrack,
    audio: &AacTrack,
    duration_seconds: u32,
) -> Result<Vec<u8>, String> {
    let err = |e: mp4::Error| format!("MP4 muxer: {e}");
    let brand = |s: &str| s.parse().map_err(|_| "MP4 muxer: bad brand".to_string());
    let config = Mp4Config {
        major_brand: brand("isom")?,
        minor_version: 512,
        compatible_brands: vec![
            brand("isom")?,
            brand("iso2")?,
            brand("avc1")?,
            brand("mp41")?,
        ],
        timescale: MOVIE_TIMESCALE,
    };
    let mut writer = Mp4Writer::write_start(Cursor::new(Vec::new()), &config).map_err(err)?;
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Video,
            timescale: MOVIE_TIMESCALE,
            language: "und".into(),
            media_conf: MediaConfig::AvcConfig(AvcConfig {
                width: video.width,
                height: video.height,
                seq_param_set: video.sps.clone(),
                pic_param_set: video.pps.clone(),
            }),
        })
        .map_err(err)?;
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Audio,
            timescale: SAMPLE_RATE,
            language: "und".into(),
            media_conf: MediaConfig::AacConfig(AacConfig {
                bitrate: audio.bitrate,
                profile: AudioObjectType::AacLowComplexity,
                freq_index: SampleFreqIndex::Freq48000,
                chan_conf: ChannelConfig::Mono,
            }),
        })
        .map_err(err)?;

    let frame_ticks = MOVIE_TIMESCALE / video.fps;
    let mut audio_frames = audio.frames.iter().enumerate().peekable();
    let mut next_frame = 0u64;
    for unit in video.samples {
        let start = next_frame * u64::from(frame_ticks);
        next_frame += u64::from(unit.frames);
        // Audio frames that start before this picture (in 90 kHz ticks).
        while let Some((j, frame)) = audio_frames.next_if(|(j, _)| {
            (*j as u64 * u64::from(FRAME_SAMPLES)) * u64::from(MOVIE_TIMESCALE)
                / u64::from(SAMPLE_RATE)
                <= start
        }) {
            write_audio(&mut writer, j, frame)?;
        }
        let sample = Mp4Sample {
            start_time: start,
            duration: frame_ticks * unit.frames,
            rendering_offset: 0,
            is_sync: unit.keyframe,
            bytes: Bytes::from(unit.data),
        };
        writer.write_sample(1, &sample).map_err(err)?;
    }
    for (j, frame) in audio_frames {
        write_audio(&mut writer, j, frame)?;
    }
    writer.write_end().map_err(err)?;
    let file = writer.into_writer().into_inner();
    fast_start(file, duration_seconds, audio.delay)
}

fn write_audio(
    writer: &mut Mp4Writer<Cursor<Vec<u8>>>,
    index: usize,
    frame: &[u8],
) -> Result<(), String> {
    let sample = Mp4Sample {
        start_time: index as u64 * u64::from(FRAME_SAMPLES),
        duration: FRAME_SAMPLES,
        rendering_offset: 0,
        is_sync: true,
        bytes: Bytes::copy_from_slice(frame),
    };
    writer
        .write_sample(2, &sample)
        .map_err(|e| format!("MP4 muxer: {e}"))
}

/// Top-level boxes of `file`: (type, start, end).
fn top_level_boxes(file: &[u8]) -> Result<Vec<([u8; 4], usize, usize)>, String> {
    let mut boxes = Vec::new();
    let mut pos = 0;
    while pos + 8 <= file.len() {
        let size32 = u32::from_be_bytes([file[pos], file[pos + 1], file[pos + 2], file[pos + 3]]);
        let kind = [file[pos + 4], file[pos + 5], file[pos + 6], file[pos + 7]];
        let size = match size32 {
            0 => file.len() - pos,
            1 => {
                let large = file
                    .get(pos + 8..pos + 16)
                    .ok_or("MP4 muxer: truncated box")?;
                usize::try_from(u64::from_be_bytes(
                    large.try_into().map_err(|_| "MP4 muxer: box size")?,
                ))
                .map_err(|_| "MP4 muxer: box too large")?
            }
            n => n as usize,
        };
        if size < 8 || pos + size > file.len() {
            return Err("MP4 muxer: bad box size".into());
        }
        boxes.push((kind, pos, pos + size));
        pos += size;
    }
    Ok(boxes)
}

/// Moves `moov` before `mdat` (shifting the chunk offsets), sets the movie
/// and track durations to exactly `duration_seconds`, and gives the audio
/// track an edit list starting after the encoder's `audio_delay` priming
/// samples.
fn fast_start(file: Vec<u8>, duration_seconds: u32, audio_delay: u32) -> Result<Vec<u8>, String> {
    let boxes = top_level_boxes(&file)?;
    let find = |kind: &[u8; 4]| {
        boxes
            .iter()
            .find(|(k, _, _)| k == kind)
            .map(|&(_, s, e)| (s, e))
            .ok_or_else(|| format!("MP4 muxer: no {} box", String::from_utf8_lossy(kind)))
    };
    let (ftyp, mdat) = (find(b"ftyp")?, find(b"mdat")?);
    let size = file.len() as u64;
    let mut moov = Mp4Reader::read_header(Cursor::new(&file), size)
        .map_err(|e| format!("MP4 muxer: reading back: {e}"))?
        .moov;

    let duration = u64::from(duration_seconds) * u64::from(MOVIE_TIMESCALE);
    moov.mvhd.duration = duration;
    for trak in &mut moov.traks {
        trak.tkhd.duration = duration;
        let media_time = if trak.mdia.minf.smhd.is_some() {
            u64::from(audio_delay)
        } else {
            0
        };
        // The edts / elst types are not exported by the `mp4` crate: build
        // them from their defaults.
        let edts = trak.edts.insert(Default::default());
        let elst = edts.elst.insert(Default::default());
        elst.version = 0;
        elst.flags = 0;
        elst.entries.clear();
        elst.entries.push(Default::default());
        let entry = &mut elst.entries[0];
        entry.segment_duration = duration;
        entry.media_time = media_time;
        entry.media_rate = 1;
        entry.media_rate_fraction = 0;
    }
    // The new layout: ftyp, moov, then mdat (and anything after it, e.g. the
    // `free` box the writer may leave, is dropped).
    let moov_size = moov.box_size();
    let old_mdat_start = mdat.0 as u64;
    let new_mdat_start = (ftyp.1 - ftyp.0) as u64 + moov_size;
    for trak in &mut moov.traks {
        let stbl = &mut trak.mdia.minf.stbl;
        if let Some(co64) = &mut stbl.co64 {
            for offset in &mut co64.entries {
                *offset = *offset - old_mdat_start + new_mdat_start;
            }
        }
        if let Some(stco) = &mut stbl.stco {
            for offset in &mut stco.entries {
                let moved = u64::from(*offset) - old_mdat_start + new_mdat_start;
                *offset = u32::try_from(moved).map_err(|_| "MP4 muxer: offset overflow")?;
            }
        }
    }
    let mut out = Vec::with_capacity(file.len() + 64);
    out.extend_from_slice(&file[ftyp.0..ftyp.1]);
    moov.write_box(&mut out)
        .map_err(|e| format!("MP4 muxer: {e}"))?;
    if out.len() as u64 != new_mdat_start {
        return Err("MP4 muxer: moov size changed while writing".into());
    }
    out.extend_from_slice(&file[mdat.0..mdat.1]);
    Ok(out)
}
