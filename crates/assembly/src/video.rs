//! H.264 encoding with OpenH264: pictures in, MP4-ready access units out
//! (length-prefixed NAL units, SPS / PPS kept aside for the `avcC` box).

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod,
    RateControlMode, SpsPpsStrategy, UsageType, VuiConfig,
};

use crate::yuv::Yuv420;

const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_IDR: u8 = 5;

/// One encoded picture as an MP4 sample.
#[derive(Debug, Clone)]
pub(crate) struct AccessUnit {
    /// NAL units, each behind a 4-byte big-endian length.
    pub(crate) data: Vec<u8>,
    /// An IDR picture (a sync sample).
    pub(crate) keyframe: bool,
    /// How many output frames the picture is shown for (≥ 1): a picture
    /// that does not change is held rather than encoded again.
    pub(crate) frames: u32,
}

/// An OpenH264 encoder for one video, configured for offline assembly.
pub(crate) struct VideoEncoder {
    encoder: Encoder,
    fps: u32,
    frames: u64,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

/// The encoder settings the assembler uses.
pub(crate) struct VideoSettings {
    pub(crate) fps: u32,
    pub(crate) bitrate: u32,
    pub(crate) keyframe_interval: u32,
    pub(crate) threads: u16,
}

impl VideoEncoder {
    pub(crate) fn new(settings: &VideoSettings) -> Result<Self, String> {
        let config = EncoderConfig::new()
            // Real-time usage: the non-real-time screen mode is rejected.
            .usage_type(UsageType::CameraVideoRealTime)
            .complexity(Complexity::Low)
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(settings.bitrate))
            .max_frame_rate(FrameRate::from_hz(settings.fps as f32))
            // Constant frame rate: every input picture becomes a sample.
            .skip_frames(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(
                settings.keyframe_interval,
            ))
            .sps_pps_strategy(SpsPpsStrategy::ConstantId)
            .vui(VuiConfig::bt601())
            .scene_change_detect(false)
            .background_detection(false)
            .adaptive_quantization(false)
            .num_threads(settings.threads);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| format!("H.264 encoder: {e}"))?;
        Ok(Self {
            encoder,
            fps: settings.fps,
            frames: 0,
            sps: None,
            pps: None,
        })
    }

    /// Makes the next encoded picture a keyframe (IDR).
    pub(crate) fn force_keyframe(&mut self) {
        self.encoder.force_intra_frame();
    }

    /// Encodes the picture shown from output frame `frame` on.
    pub(crate) fn encode(&mut self, picture: &Yuv420, frame: u64) -> Result<AccessUnit, String> {
        let millis = frame * 1000 / u64::from(self.fps);
        self.frames += 1;
        let stream = self
            .encoder
            .encode_at(picture, Timestamp::from_millis(millis))
            .map_err(|e| format!("H.264 encoder: {e}"))?;
        if matches!(stream.frame_type(), FrameType::Skip | FrameType::Invalid) {
            return Err(format!("H.264 encoder skipped frame {}", self.frames - 1));
        }
        let mut data = Vec::new();
        let mut keyframe = false;
        for l in 0..stream.num_layers() {
            let Some(layer) = stream.layer(l) else {
                continue;
            };
            for n in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(n).map(strip_start_code) else {
                    continue;
                };
                let Some(&header) = nal.first() else { continue };
                match header & 0x1f {
                    NAL_SPS => {
                        self.sps.get_or_insert_with(|| nal.to_vec());
                    }
                    NAL_PPS => {
                        self.pps.get_or_insert_with(|| nal.to_vec());
                    }
                    kind => {
                        keyframe |= kind == NAL_IDR;
                        data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        data.extend_from_slice(nal);
                    }
                }
            }
        }
        if data.is_empty() {
            return Err(format!(
                "H.264 encoder gave no picture for frame {}",
                self.frames - 1
            ));
        }
        Ok(AccessUnit {
            data,
            keyframe,
            frames: 1,
        })
    }

    /// The SPS and PPS (without start codes), once a frame was encoded.
    pub(crate) fn parameter_sets(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        match (&self.sps, &self.pps) {
            (Some(sps), Some(pps)) => Ok((sps.clone(), pps.clone())),
            _ => Err("H.264 encoder gave no SPS / PPS".into()),
        }
    }
}

/// A NAL unit without its Annex B start code.
pub(crate) fn strip_start_code(nal: &[u8]) -> &[u8] {
    if let Some(rest) = nal.strip_prefix(&[0, 0, 0, 1]) {
        rest
    } else if let Some(rest) = nal.strip_prefix(&[0, 0, 1]) {
        rest
    } else {
        nal
    }
}
