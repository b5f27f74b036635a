// FluxChat's public API speaks FluxCore's types (JSONValue, FluxError, Limits), so a front end
// that imports FluxChat sees them without importing FluxCore itself.
@_exported import FluxCore
