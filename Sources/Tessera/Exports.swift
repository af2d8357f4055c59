@_exported import TesseraCompiler
@_exported import TesseraGraph
@_exported import TesseraHost
@_exported import TesseraModels
@_exported import TesseraOps
@_exported import TesseraProfile
@_exported import TesseraRuntime
