/**
 * What a release of the package ships so that the loader can download the
 * matching prebuilt library and trust it: the library version, the default
 * download base URL and the SHA-256 sum of every prebuilt file.
 *
 * The release step rewrites this file; until the first release there is no
 * download base and no sum, so the download path needs `LMM_DOWNLOAD_BASE`
 * (or `downloadBase`) and explicit `checksums`, and users rely on `LMM_LIB`
 * or the repository build.
 *
 * @module
 */

/** Version of the native library this module loads (the release tag is `v` + this). */
export const LIBRARY_VERSION = "0.1.0";

/**
 * Default base URL of the downloads: the file is fetched from
 * `${base}/v${LIBRARY_VERSION}/${fileName}`. Empty until the first release.
 */
export const DOWNLOAD_BASE = "";

/** SHA-256 (lowercase hex) of each prebuilt file, by file name. */
export const LIBRARY_SHA256: Readonly<Record<string, string>> = {};
