// KaipmStore: the content-addressed plugin store on disk (`PluginStore`), h1 tree hashing
// (`TreeHasher`) and a `FileTree` over host directories (`DirectoryTree`).
import KaipmCore
