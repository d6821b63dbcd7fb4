//! [`Flaky`]: a wrapper that makes chosen port calls fail, so tests (and the
//! server's end-to-end tests, via [`Flaky::parse_faults`]) can exercise the
//! pipeline's fallbacks and error codes.
//!
//! ```
//! use ytvc_media_clients::flaky::{Fault, Flaky, Op};
//! use ytvc_media_clients::local::LocalProvider;
//!
//! // Every clip fails (MEDIA_001), the second still fails (MEDIA_002).
//! let provider = Flaky::new(LocalProvider::new("/tmp/ytvc-artifacts".into()))
//!     .fail(Op::Clip, Fault::always())
//!     .fail(Op::Still, Fault::on_calls([1]));
//! # let _ = provider;
//! let faults = Flaky::<()>::parse_faults("clip=always, still=calls:1+3, narrate=every:2").unwrap();
//! assert_eq!(faults.len(), 3);
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use ytvc_domain::media::{
    ArtifactMeta, ArtifactStore, BoxFuture, ByteStream, MediaBlob, MediaError, Narrator, Scene,
    ScriptWriter, Service, StoredArtifact, Storyboard, TitleCardRenderer, VisualGenerator,
};
use ytvc_domain::{AspectRatio, Language, VideoSpec, Voice};

/// A port call [`Flaky`] can make fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`ScriptWriter::write_script`]; default error `LLM_002`.
    Script,
    /// [`VisualGenerator::clip`]; default error `MEDIA_001`.
    Clip,
    /// [`VisualGenerator::still`]; default error `MEDIA_002`.
    Still,
    /// [`TitleCardRenderer::title_card`]; default error `VIDEO_001`.
    TitleCard,
    /// [`Narrator::narrate`]; default error `MEDIA_003`.
    Narrate,
    /// [`ArtifactStore::put`]; default error `VIDEO_004`.
    Put,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 6] = [
        Op::Script,
        Op::Clip,
        Op::Still,
        Op::TitleCard,
        Op::Narrate,
        Op::Put,
    ];

    /// The name used by [`Flaky::parse_faults`] (`script`, `clip`, `still`,
    /// `title_card`, `narrate`, `put`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Script => "script",
            Op::Clip => "clip",
            Op::Still => "still",
            Op::TitleCard => "title_card",
            Op::Narrate => "narrate",
            Op::Put => "put",
        }
    }

    const fn slot(self) -> usize {
        self as usize
    }

    fn default_error(self) -> MediaError {
        let down = |service| MediaError::Unavailable {
            service,
            reason: "injected fault".into(),
        };
        match self {
            Op::Script => down(Service::Llm),
            Op::Clip => down(Service::Veo),
            Op::Still => down(Service::Imagen),
            Op::Narrate => down(Service::Tts),
            Op::TitleCard => MediaError::GenerationFailed("injected fault".into()),
            Op::Put => MediaError::AssemblyFailed("injected fault".into()),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == s.trim())
            .ok_or_else(|| format!("unknown operation {s:?}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum When {
    Never,
    Always,
    Slow(std::time::Duration),
    Calls(BTreeSet<usize>),
    Every(usize),
}

/// When a call fails, and with which error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    when: When,
    error: Option<MediaError>,
}

impl Fault {
    /// Never fails.
    #[must_use]
    pub fn never() -> Self {
        Self {
            when: When::Never,
            error: None,
        }
    }

    /// Every call fails.
    #[must_use]
    pub fn always() -> Self {
        Self {
            when: When::Always,
            error: None,
        }
    }

    /// The calls with these 0-based numbers fail (counted per operation).
    #[must_use]
    pub fn on_calls(calls: impl IntoIterator<Item = usize>) -> Self {
        Self {
            when: When::Calls(calls.into_iter().collect()),
            error: None,
        }
    }

    /// Every `n`-th call fails (calls `n-1`, `2n-1`, ...); `n` = 0 never.
    #[must_use]
    pub fn every(n: usize) -> Self {
        Self {
            when: When::Every(n),
            error: None,
        }
    }

    /// Never fails, but every call waits `delay` first (a slow service).
    #[must_use]
    pub fn slow(delay: std::time::Duration) -> Self {
        Self {
            when: When::Slow(delay),
            error: None,
        }
    }

    /// Fails with `error` instead of the operation's default error.
    #[must_use]
    pub fn with_error(mut self, error: MediaError) -> Self {
        self.error = Some(error);
        self
    }

    fn fails(&self, call: usize) -> bool {
        match &self.when {
            When::Never | When::Slow(_) => false,
            When::Always => true,
            When::Calls(calls) => calls.contains(&call),
            When::Every(n) => *n > 0 && (call + 1).is_multiple_of(*n),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    /// `never`, `always`, `every:N`, `calls:A+B+...` or `slow:MS`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let number = |n: &str| {
            n.trim()
                .parse::<usize>()
                .map_err(|e| format!("bad number {n:?}: {e}"))
        };
        match s.split_once(':') {
            None if s == "never" => Ok(Fault::never()),
            None if s == "always" => Ok(Fault::always()),
            Some(("every", n)) => Ok(Fault::every(number(n)?)),
            Some(("slow", ms)) => Ok(Fault::slow(std::time::Duration::from_millis(
                u64::try_from(number(ms)?).unwrap_or(u64::MAX),
            ))),
            Some(("calls", list)) => Ok(Fault::on_calls(
                list.split('+').map(number).collect::<Result<Vec<_>, _>>()?,
            )),
            _ => Err(format!(
                "unknown fault {s:?} (never, always, every:N, calls:A+B, slow:MS)"
            )),
        }
    }
}

/// Wraps a provider `P` and makes chosen calls fail; all others go to `P`.
/// Calls are counted per operation (failed ones included).
pub struct Flaky<P> {
    inner: P,
    faults: [Fault; 6],
    calls: [AtomicUsize; 6],
}

impl<P> fmt::Debug for Flaky<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flaky")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl<P> Flaky<P> {
    /// `inner`, with no faults yet.
    #[must_use]
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            faults: std::array::from_fn(|_| Fault::never()),
            calls: std::array::from_fn(|_| AtomicUsize::new(0)),
        }
    }

    /// Makes `op` fail per `fault` (replacing an earlier fault for `op`).
    #[must_use]
    pub fn fail(mut self, op: Op, fault: Fault) -> Self {
        self.faults[op.slot()] = fault;
        self
    }

    /// Applies a list of faults (e.g. from [`parse_faults`](Self::parse_faults)).
    #[must_use]
    pub fn with_faults(self, faults: impl IntoIterator<Item = (Op, Fault)>) -> Self {
        faults
            .into_iter()
            .fold(self, |flaky, (op, fault)| flaky.fail(op, fault))
    }

    /// Parses `op=fault` pairs separated by commas, e.g.
    /// `clip=always,still=calls:0+2,narrate=every:3` (see [`Op::as_str`] and
    /// [`Fault`]'s `FromStr`).
    ///
    /// # Errors
    ///
    /// A message naming the part that does not parse.
    pub fn parse_faults(spec: &str) -> Result<Vec<(Op, Fault)>, String> {
        spec.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let (op, fault) = part
                    .split_once('=')
                    .ok_or_else(|| format!("expected op=fault, got {part:?}"))?;
                Ok((op.parse()?, fault.parse()?))
            })
            .collect()
    }

    /// How many times `op` was called.
    #[must_use]
    pub fn calls(&self, op: Op) -> usize {
        self.calls[op.slot()].load(Ordering::SeqCst)
    }

    /// The wrapped provider.
    #[must_use]
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Counts a call of `op`: the error to fail it with, or how long to
    /// delay it (a `slow:MS` fault) before running it.
    fn check(&self, op: Op) -> Result<Option<std::time::Duration>, MediaError> {
        let call = self.calls[op.slot()].fetch_add(1, Ordering::SeqCst);
        let fault = &self.faults[op.slot()];
        if let When::Slow(delay) = fault.when {
            Ok(Some(delay))
        } else if fault.fails(call) {
            Err(fault.error.clone().unwrap_or_else(|| op.default_error()))
        } else {
            Ok(None)
        }
    }
}

impl<P: ScriptWriter> ScriptWriter for Flaky<P> {
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        match self.check(Op::Script) {
            Ok(None) => self.inner.write_script(spec),
            Ok(Some(delay)) => {
                let run = self.inner.write_script(spec);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl<P: VisualGenerator> VisualGenerator for Flaky<P> {
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match self.check(Op::Clip) {
            Ok(None) => self.inner.clip(scene, aspect),
            Ok(Some(delay)) => {
                let run = self.inner.clip(scene, aspect);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match self.check(Op::Still) {
            Ok(None) => self.inner.still(scene, aspect),
            Ok(Some(delay)) => {
                let run = self.inner.still(scene, aspect);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl<P: TitleCardRenderer> TitleCardRenderer for Flaky<P> {
    fn title_card<'a>(
        &'a self,
        title: &'a str,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match self.check(Op::TitleCard) {
            Ok(None) => self.inner.title_card(title, scene, aspect),
            Ok(Some(delay)) => {
                let run = self.inner.title_card(title, scene, aspect);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl<P: Narrator> Narrator for Flaky<P> {
    fn narrate<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match self.check(Op::Narrate) {
            Ok(None) => self.inner.narrate(scene, voice, language),
            Ok(Some(delay)) => {
                let run = self.inner.narrate(scene, voice, language);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn narrate_named<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<(MediaBlob, Option<String>), MediaError>> {
        match self.check(Op::Narrate) {
            Ok(None) => self.inner.narrate_named(scene, voice, language),
            Ok(Some(delay)) => {
                let run = self.inner.narrate_named(scene, voice, language);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl<P: ArtifactStore> ArtifactStore for Flaky<P> {
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        match self.check(Op::Put) {
            Ok(None) => self.inner.put(video_id, name, blob),
            Ok(Some(delay)) => {
                let run = self.inner.put(video_id, name, blob);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    run.await
                })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        self.inner.discard(video_id)
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        self.inner.read(video_id, name)
    }

    fn stat<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<ArtifactMeta>, MediaError>> {
        self.inner.stat(video_id, name)
    }

    fn open<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        range: std::ops::Range<u64>,
    ) -> BoxFuture<'a, Result<Option<ByteStream>, MediaError>> {
        self.inner.open(video_id, name, range)
    }

    fn presign<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        expires_in: std::time::Duration,
    ) -> BoxFuture<'a, Result<Option<String>, MediaError>> {
        self.inner.presign(video_id, name, expires_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_patterns() {
        let f = Fault::every(3);
        assert_eq!(
            (0..7).map(|c| f.fails(c)).collect::<Vec<_>>(),
            [false, false, true, false, false, true, false]
        );
        assert!(!Fault::every(0).fails(0));
        assert!(Fault::on_calls([0, 2]).fails(2) && !Fault::on_calls([0, 2]).fails(1));
        assert!(Fault::always().fails(99) && !Fault::never().fails(0));
    }

    #[test]
    fn parsing() {
        let faults =
            Flaky::<()>::parse_faults(" clip=always ,still=calls:0+2, narrate=every:3,").unwrap();
        assert_eq!(
            faults,
            [
                (Op::Clip, Fault::always()),
                (Op::Still, Fault::on_calls([0, 2])),
                (Op::Narrate, Fault::every(3)),
            ]
        );
        assert!(Flaky::<()>::parse_faults("veo=always").is_err());
        assert!(Flaky::<()>::parse_faults("clip").is_err());
        assert!(Flaky::<()>::parse_faults("clip=sometimes").is_err());
        assert!(Flaky::<()>::parse_faults("clip=calls:x").is_err());
        assert_eq!(Flaky::<()>::parse_faults("").unwrap(), []);
    }

    #[test]
    fn errors_and_counts() {
        let flaky = Flaky::new(()).fail(Op::Clip, Fault::always()).fail(
            Op::Script,
            Fault::always().with_error(MediaError::Timeout {
                service: Service::Llm,
            }),
        );
        assert_eq!(
            flaky.check(Op::Clip).unwrap_err().code().as_str(),
            "MEDIA_001"
        );
        assert_eq!(
            flaky.check(Op::Script).unwrap_err().code().as_str(),
            "LLM_001"
        );
        assert!(flaky.check(Op::Still).is_ok());
        assert_eq!(
            (
                flaky.calls(Op::Clip),
                flaky.calls(Op::Still),
                flaky.calls(Op::Put)
            ),
            (1, 1, 0)
        );
        for (op, code) in [
            (Op::Still, "MEDIA_002"),
            (Op::Narrate, "MEDIA_003"),
            (Op::TitleCard, "VIDEO_001"),
            (Op::Put, "VIDEO_004"),
            (Op::Script, "LLM_002"),
        ] {
            assert_eq!(op.default_error().code().as_str(), code);
            assert_eq!(op.as_str().parse::<Op>().unwrap(), op);
        }
    }
}
