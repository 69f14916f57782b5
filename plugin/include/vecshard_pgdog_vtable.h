/*
 * vecshard_pgdog_vtable.h: the plugin ABI of today's PgDog (v0.1.54 and later,
 * crate pgdog-plugin 0.4.x), as vecshard implements it and as its test hosts
 * call it.
 *
 * Written for vecshard from the layout facts in docs/ABI.md (section 2); it is
 * not PgDog's source. PgDog dlopens the library, looks up the data symbol
 * PGDOG_PLUGIN_VTABLE (the address of the struct below, not a pointer to it),
 * checks the API version (full semver, major.minor must be 0.4) and the rustc
 * version (byte for byte), then calls logging_init, init and config once, and
 * route concurrently from its worker threads. Every size and offset is pinned
 * with _Static_assert. LP64 (x86-64, aarch64 Linux) only.
 *
 * Ownership: the host owns every byte it passes (Config strings, the parse
 * tree, the parameters), valid only during the call. The PdStr values the
 * plugin returns point to static storage.
 */
#ifndef VECSHARD_PGDOG_VTABLE_H
#define VECSHARD_PGDOG_VTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UTF-8 text, not NUL-terminated; data may be NULL when len is 0. */
typedef struct PdStr {
    const uint8_t *data;
    size_t len;
} PdStr;

/* PgDog's log level name ("info", "debug", ...), whether PgDog logs JSON,
 * and the [[plugins]] config path (empty when the entry has none). */
typedef struct PdConfig {
    PdStr log_level;
    bool log_json;
    PdStr plugin_config;
} PdConfig;

/* shard: >= 0 that shard, -1 all, -2 unknown (PgDog decides), -3 blocked.
 * read_write: 0 write (primary), 1 read (replica allowed), 2 unknown. */
typedef struct PdRoute {
    int64_t shard;
    uint8_t read_write;
} PdRoute;

enum {
    PD_SHARD_ALL = -1,
    PD_SHARD_UNKNOWN = -2,
    PD_SHARD_BLOCKED = -3
};

enum {
    PD_WRITE = 0,
    PD_READ = 1,
    PD_RW_UNKNOWN = 2
};

/* One Bind parameter. len == SIZE_MAX: SQL NULL (data NULL); len 0: an
 * empty value. */
typedef struct PdParameter {
    size_t len;
    const uint8_t *data;
} PdParameter;

/* The Bind parameters and format codes as the client sent them: no codes =
 * all text, one code = all parameters, else one per parameter; 0 text,
 * 1 binary. */
typedef struct PdRawParameters {
    const PdParameter *params;
    size_t params_len;
    const int32_t *format_codes;
    size_t format_codes_len;
} PdRawParameters;

/* PostgreSQL's List (pg_list.h, PostgreSQL 16 and later): 24 bytes, 8-byte cells.
 * The statement list is a List of RawStmt*. When length is 0, elements may
 * dangle. */
typedef struct PdList {
    int32_t type; /* NodeTag: T_List */
    int32_t length;
    int32_t max_length;
    void **elements;
} PdList;

typedef struct PdPluginVtable {
    PdStr (*pgdog_plugin_api_version)(void);
    PdStr (*rustc_version)(void);
    PdStr (*plugin_version)(void);
    void (*init)(void);
    void (*fini)(void);
    bool (*config)(PdConfig);
    PdRoute (*route)(uint64_t shards, bool has_replicas, bool has_primary,
                     bool in_transaction, bool write_override,
                     const PdList *stmts, PdRawParameters params);
    void (*logging_init)(PdConfig);
} PdPluginVtable;

_Static_assert(sizeof(PdStr) == 16, "PdStr");
_Static_assert(offsetof(PdStr, len) == 8, "PdStr.len");
_Static_assert(sizeof(PdConfig) == 40, "Config");
_Static_assert(offsetof(PdConfig, log_json) == 16, "Config.log_json");
_Static_assert(offsetof(PdConfig, plugin_config) == 24, "Config.plugin_config");
_Static_assert(sizeof(PdRoute) == 16, "Route");
_Static_assert(offsetof(PdRoute, read_write) == 8, "Route.read_write");
_Static_assert(sizeof(PdParameter) == 16, "Parameter");
_Static_assert(offsetof(PdParameter, data) == 8, "Parameter.data");
_Static_assert(sizeof(PdRawParameters) == 32, "RawParameters");
_Static_assert(offsetof(PdRawParameters, params_len) == 8, "RawParameters.params_len");
_Static_assert(offsetof(PdRawParameters, format_codes) == 16, "RawParameters.format_codes");
_Static_assert(offsetof(PdRawParameters, format_codes_len) == 24, "RawParameters.format_codes_len");
_Static_assert(sizeof(PdList) == 24, "List");
_Static_assert(offsetof(PdList, elements) == 16, "List.elements");
_Static_assert(sizeof(PdPluginVtable) == 64, "vtable");
_Static_assert(offsetof(PdPluginVtable, route) == 48, "vtable.route");
_Static_assert(offsetof(PdPluginVtable, logging_init) == 56, "vtable.logging_init");

/* The one symbol PgDog looks up. */
extern const PdPluginVtable PGDOG_PLUGIN_VTABLE;

#ifdef __cplusplus
}
#endif

#endif /* VECSHARD_PGDOG_VTABLE_H */
