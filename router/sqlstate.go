package router

// The SQLSTATEs of the router's errors (Decision.Code, KeyError.Code), by
// their PostgreSQL condition names (Appendix A of the PostgreSQL manual).
// A decoder's error keeps its own code (vecdecode.Error, idkey.Error).
const (
	// SQLStateProtocolViolation (protocol_violation) is the code of a
	// statement that uses a parameter that was not bound.
	SQLStateProtocolViolation = "08P01"

	sqlStateFeatureNotSupported = "0A000" // feature_not_supported: a statement vecshard will not route as written
	sqlStateDataException       = "22000" // data_exception: a vector of the wrong dimension
	sqlStateInvalidParameter    = "22023" // invalid_parameter_value: a hint or shard count out of range
	sqlStateInvalidText         = "22P02" // invalid_text_representation: a key value that does not decode
	sqlStateNotNull             = "23502" // not_null_violation: a row with a NULL sharding key
	sqlStateInvalidColumnRef    = "42P10" // invalid_column_reference: an INSERT that does not set its key
	sqlStateConfigFileError     = "F0000" // config_file_error: configured shard counts disagree with the pooler's
)
