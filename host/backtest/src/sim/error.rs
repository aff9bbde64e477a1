/// Why a simulated market could not be built or advanced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The market configuration is inconsistent.
    #[error("invalid market configuration: {0}")]
    Config(String),
    /// The configuration names an asset it does not declare.
    #[error("unknown asset `{asset}` in {place}")]
    UnknownAsset {
        /// The asset.
        asset: String,
        /// Where it appears.
        place: String,
    },
    /// Venue math refused an operation of the market itself.
    #[error("venue error: {0}")]
    Venue(String),
}
