/*
 * vecshard_pgdog.h: the C ABI of PgDog's January 2025 plugin interface, as
 * build/libvecshard_c2025.so implements it. Of PgDog's history only commit
 * cd054b36 (2025-01-21) calls it with these layouts (docs/ABI.md, section 1).
 *
 * Written for vecshard from the layout facts in docs/ABI.md; it is not
 * PgDog's header. Every size and
 * offset the ABI depends on is pinned below with _Static_assert, so a compiler
 * that lays these types out differently refuses to build rather than
 * miscommunicating with the pooler. LP64 (x86-64, aarch64 Linux) only.
 *
 * Ownership: the host owns every byte of Input, valid only during the call.
 * After reading an Output the host frees with free(3): Route.order_by when
 * num_order_by > 0; Copy.table_name, each Copy.columns[i] and Copy.columns;
 * CopyOutput.rows and CopyOutput.header. It never frees Error strings.
 * vecshard returns FORWARD, ERROR and NO_DECISION only, with num_order_by 0,
 * and keeps its Error strings alive for the life of the process.
 */
#ifndef VECSHARD_PGDOG_H
#define VECSHARD_PGDOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One Bind parameter. len 0 with data NULL is SQL NULL (and an empty value
 * looks the same). format: 0 text, 1 binary, already resolved by the host. */
typedef struct Parameter {
    int len;
    const char *data;
    int format;
} Parameter;

/* A statement's text (NUL-terminated; len excludes the NUL) and its bound
 * parameters (none for the simple protocol). */
typedef struct Query {
    int len;
    const char *query;
    int num_parameters;
    const Parameter *parameters;
} Query;

typedef enum Affinity {
    READ = 1,
    WRITE = 2,
    TRANSACTION_START = 3,
    TRANSACTION_END = 4,
    UNKNOWN = -1
} Affinity;

/* Route.shard is a shard index >= 0 or one of these. */
typedef enum Shard {
    ANY = -1,
    ALL = -2
} Shard;

typedef enum OrderByDirection {
    ASCENDING = 0,
    DESCENDING = 1
} OrderByDirection;

typedef struct OrderBy {
    char *column_name;
    int column_index;
    OrderByDirection direction;
} OrderBy;

typedef struct Route {
    Affinity affinity;
    int shard;
    int num_order_by;
    OrderBy *order_by;
} Route;

typedef enum RoutingDecision {
    FORWARD = 1,
    REWRITE = 2,
    ERROR = 3,
    INTERCEPT = 4,
    NO_DECISION = 5,
    COPY = 6,
    COPY_ROWS = 7
} RoutingDecision;

/* Sent to the client as an ErrorResponse: severity, SQLSTATE code, message
 * and detail, all NUL-terminated. */
typedef struct Error {
    char *severity;
    char *code;
    char *message;
    char *detail;
} Error;

typedef struct RowColumn {
    int length;
    char *data;
} RowColumn;

typedef struct Row {
    int num_columns;
    RowColumn *columns;
} Row;

typedef struct RowDescriptionColumn {
    int len;
    char *name;
    int oid;
} RowDescriptionColumn;

typedef struct RowDescription {
    int num_columns;
    RowDescriptionColumn *columns;
} RowDescription;

typedef struct Intercept {
    RowDescription row_description;
    int num_rows;
    Row *rows;
} Intercept;

typedef enum CopyFormat {
    INVALID = 0,
    CSV = 1
} CopyFormat;

typedef struct Copy {
    CopyFormat copy_format;
    char *table_name;
    int has_headers;
    char delimiter;
    int num_columns;
    char **columns;
} Copy;

typedef struct CopyRow {
    int len;
    char *data;
    int shard;
} CopyRow;

typedef struct CopyOutput {
    int num_rows;
    CopyRow *rows;
    char *header;
} CopyOutput;

typedef union RoutingOutput {
    Route route;
    Error error;
    Intercept intercept;
    Copy copy;
    CopyOutput copy_rows;
} RoutingOutput;

typedef struct Output {
    RoutingDecision decision;
    RoutingOutput output;
} Output;

typedef enum Role {
    PRIMARY = 1,
    REPLICA = 2
} Role;

typedef struct DatabaseConfig {
    int shard;
    Role role;
    char *host;
    int port;
} DatabaseConfig;

/* The cluster the statement is for: its databases, the database name, and
 * the shard count (the only place the plugin learns it). */
typedef struct Config {
    int num_databases;
    DatabaseConfig *databases;
    char *name;
    int shards;
} Config;

/* One CopyData message of a COPY FROM STDIN. */
typedef struct CopyInput {
    int len;
    const char *data;
    char delimiter;
    int has_headers;
    int sharding_column;
} CopyInput;

typedef union RoutingInput {
    Query query;
    CopyInput copy;
} RoutingInput;

typedef enum InputType {
    ROUTING_INPUT = 1,
    COPY_INPUT = 2
} InputType;

typedef struct Input {
    Config config;
    InputType input_type;
    RoutingInput input;
} Input;

/* The plugin's symbols. PgDog requires pgdog_route_query; the other two are
 * optional. pgdog_init runs once before any route call; pgdog_route_query
 * runs concurrently from many threads; pgdog_fini runs once at shutdown. */
void pgdog_init(void);
Output pgdog_route_query(Input input);
void pgdog_fini(void);

#ifdef __cplusplus
}
#endif

/* The layout contract (ABI.md section 1): _Static_assert where the language
 * has it (C11, C++11, and GNU C in every mode), else the C99 idiom of an
 * array type whose size is negative when the condition fails. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define VECSHARD_ABI_ASSERT(cond) static_assert(cond, #cond)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define VECSHARD_ABI_ASSERT(cond) _Static_assert(cond, #cond)
#else
#define VECSHARD_ABI_CAT2(a, b) a##b
#define VECSHARD_ABI_CAT(a, b) VECSHARD_ABI_CAT2(a, b)
#define VECSHARD_ABI_ASSERT(cond) \
    typedef char VECSHARD_ABI_CAT(vecshard_abi_assert_line_, __LINE__)[(cond) ? 1 : -1]
#endif
VECSHARD_ABI_ASSERT(sizeof(int) == 4);
VECSHARD_ABI_ASSERT(sizeof(void *) == 8);
VECSHARD_ABI_ASSERT(sizeof(Affinity) == 4);
VECSHARD_ABI_ASSERT(sizeof(Shard) == 4);
VECSHARD_ABI_ASSERT(sizeof(RoutingDecision) == 4);
VECSHARD_ABI_ASSERT(sizeof(OrderByDirection) == 4);
VECSHARD_ABI_ASSERT(sizeof(CopyFormat) == 4);
VECSHARD_ABI_ASSERT(sizeof(Role) == 4);
VECSHARD_ABI_ASSERT(sizeof(InputType) == 4);

VECSHARD_ABI_ASSERT(sizeof(Parameter) == 24);
VECSHARD_ABI_ASSERT(offsetof(Parameter, len) == 0);
VECSHARD_ABI_ASSERT(offsetof(Parameter, data) == 8);
VECSHARD_ABI_ASSERT(offsetof(Parameter, format) == 16);

VECSHARD_ABI_ASSERT(sizeof(Query) == 32);
VECSHARD_ABI_ASSERT(offsetof(Query, len) == 0);
VECSHARD_ABI_ASSERT(offsetof(Query, query) == 8);
VECSHARD_ABI_ASSERT(offsetof(Query, num_parameters) == 16);
VECSHARD_ABI_ASSERT(offsetof(Query, parameters) == 24);

VECSHARD_ABI_ASSERT(sizeof(OrderBy) == 16);
VECSHARD_ABI_ASSERT(offsetof(OrderBy, column_name) == 0);
VECSHARD_ABI_ASSERT(offsetof(OrderBy, column_index) == 8);
VECSHARD_ABI_ASSERT(offsetof(OrderBy, direction) == 12);

VECSHARD_ABI_ASSERT(sizeof(Route) == 24);
VECSHARD_ABI_ASSERT(offsetof(Route, affinity) == 0);
VECSHARD_ABI_ASSERT(offsetof(Route, shard) == 4);
VECSHARD_ABI_ASSERT(offsetof(Route, num_order_by) == 8);
VECSHARD_ABI_ASSERT(offsetof(Route, order_by) == 16);

VECSHARD_ABI_ASSERT(sizeof(Error) == 32);
VECSHARD_ABI_ASSERT(offsetof(Error, severity) == 0);
VECSHARD_ABI_ASSERT(offsetof(Error, code) == 8);
VECSHARD_ABI_ASSERT(offsetof(Error, message) == 16);
VECSHARD_ABI_ASSERT(offsetof(Error, detail) == 24);

VECSHARD_ABI_ASSERT(sizeof(RowColumn) == 16);
VECSHARD_ABI_ASSERT(offsetof(RowColumn, data) == 8);
VECSHARD_ABI_ASSERT(sizeof(Row) == 16);
VECSHARD_ABI_ASSERT(offsetof(Row, columns) == 8);
VECSHARD_ABI_ASSERT(sizeof(RowDescriptionColumn) == 24);
VECSHARD_ABI_ASSERT(offsetof(RowDescriptionColumn, name) == 8);
VECSHARD_ABI_ASSERT(offsetof(RowDescriptionColumn, oid) == 16);
VECSHARD_ABI_ASSERT(sizeof(RowDescription) == 16);
VECSHARD_ABI_ASSERT(offsetof(RowDescription, columns) == 8);

VECSHARD_ABI_ASSERT(sizeof(Intercept) == 32);
VECSHARD_ABI_ASSERT(offsetof(Intercept, row_description) == 0);
VECSHARD_ABI_ASSERT(offsetof(Intercept, num_rows) == 16);
VECSHARD_ABI_ASSERT(offsetof(Intercept, rows) == 24);

VECSHARD_ABI_ASSERT(sizeof(Copy) == 40);
VECSHARD_ABI_ASSERT(offsetof(Copy, copy_format) == 0);
VECSHARD_ABI_ASSERT(offsetof(Copy, table_name) == 8);
VECSHARD_ABI_ASSERT(offsetof(Copy, has_headers) == 16);
VECSHARD_ABI_ASSERT(offsetof(Copy, delimiter) == 20);
VECSHARD_ABI_ASSERT(offsetof(Copy, num_columns) == 24);
VECSHARD_ABI_ASSERT(offsetof(Copy, columns) == 32);

VECSHARD_ABI_ASSERT(sizeof(CopyRow) == 24);
VECSHARD_ABI_ASSERT(offsetof(CopyRow, len) == 0);
VECSHARD_ABI_ASSERT(offsetof(CopyRow, data) == 8);
VECSHARD_ABI_ASSERT(offsetof(CopyRow, shard) == 16);

VECSHARD_ABI_ASSERT(sizeof(CopyOutput) == 24);
VECSHARD_ABI_ASSERT(offsetof(CopyOutput, num_rows) == 0);
VECSHARD_ABI_ASSERT(offsetof(CopyOutput, rows) == 8);
VECSHARD_ABI_ASSERT(offsetof(CopyOutput, header) == 16);

VECSHARD_ABI_ASSERT(sizeof(RoutingOutput) == 40);
VECSHARD_ABI_ASSERT(sizeof(Output) == 48);
VECSHARD_ABI_ASSERT(offsetof(Output, decision) == 0);
VECSHARD_ABI_ASSERT(offsetof(Output, output) == 8);

VECSHARD_ABI_ASSERT(sizeof(DatabaseConfig) == 24);
VECSHARD_ABI_ASSERT(offsetof(DatabaseConfig, shard) == 0);
VECSHARD_ABI_ASSERT(offsetof(DatabaseConfig, role) == 4);
VECSHARD_ABI_ASSERT(offsetof(DatabaseConfig, host) == 8);
VECSHARD_ABI_ASSERT(offsetof(DatabaseConfig, port) == 16);

VECSHARD_ABI_ASSERT(sizeof(Config) == 32);
VECSHARD_ABI_ASSERT(offsetof(Config, num_databases) == 0);
VECSHARD_ABI_ASSERT(offsetof(Config, databases) == 8);
VECSHARD_ABI_ASSERT(offsetof(Config, name) == 16);
VECSHARD_ABI_ASSERT(offsetof(Config, shards) == 24);

VECSHARD_ABI_ASSERT(sizeof(CopyInput) == 32);
VECSHARD_ABI_ASSERT(offsetof(CopyInput, len) == 0);
VECSHARD_ABI_ASSERT(offsetof(CopyInput, data) == 8);
VECSHARD_ABI_ASSERT(offsetof(CopyInput, delimiter) == 16);
VECSHARD_ABI_ASSERT(offsetof(CopyInput, has_headers) == 20);
VECSHARD_ABI_ASSERT(offsetof(CopyInput, sharding_column) == 24);

VECSHARD_ABI_ASSERT(sizeof(RoutingInput) == 32);
VECSHARD_ABI_ASSERT(sizeof(Input) == 72);
VECSHARD_ABI_ASSERT(offsetof(Input, config) == 0);
VECSHARD_ABI_ASSERT(offsetof(Input, input_type) == 32);
VECSHARD_ABI_ASSERT(offsetof(Input, input) == 40);

#endif /* VECSHARD_PGDOG_H */
