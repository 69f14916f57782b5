package corpus

// Hand-picked 3-dimensional vectors and where items (cosine, c3k4) places
// them: vx -> 0, vy -> 1, vz -> 2, vnx -> 3.
var (
	vx  = []float32{3, 1, 0}
	vy  = []float32{0, 5, 1}
	vz  = []float32{1, 2, 3}
	vnx = []float32{-2, 1, 0}
)

// search: similarity searches on items in the spellings of pgvector's README.
func (b *builder) search() {
	// Operators and functions, text and binary parameters.
	b.vec("select/order-cosine-param", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", vz...)
	b.vec("select/order-l2-param", "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5", vx...)
	b.vec("select/order-ip-param", "SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 5", vnx...)
	b.vec("select/order-l1-param", "SELECT id FROM items ORDER BY embedding <+> $1 LIMIT 5", vy...)
	b.vec("select/func-cosine-distance", "SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 5", vy...)
	b.vec("select/func-l2-distance", "SELECT id FROM items ORDER BY l2_distance(embedding, $1) LIMIT 5", vz...)
	b.vec("select/func-inner-product", "SELECT id FROM items ORDER BY inner_product(embedding, $1) LIMIT 5", vx...)
	b.vec("select/func-l1-distance", "SELECT id FROM items ORDER BY l1_distance(embedding, $1) LIMIT 5", vnx...)
	b.vec("select/func-reversed-args", "SELECT id FROM items ORDER BY l2_distance($1, embedding) LIMIT 5", vy...)
	b.vec("select/order-reversed-operands", "SELECT id FROM items ORDER BY $1 <=> embedding LIMIT 5", vz...)
	b.vec("select/order-ip-negated", "SELECT id FROM items ORDER BY (embedding <#> $1) * -1 LIMIT 5", vnx...)
	b.vec("select/similarity-order-desc", "SELECT id FROM items ORDER BY 1 - (embedding <=> $1) DESC LIMIT 5", vy...)
	b.vec("select/similarity-select-and-order", "SELECT id, 1 - (embedding <=> $1) AS cosine_similarity FROM items ORDER BY embedding <=> $1 LIMIT 5", vx...)
	b.vec("select/order-alias", "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 5", vx...)
	b.vec("select/order-position", "SELECT id, embedding <-> $1 FROM items ORDER BY 2 LIMIT 5", vz...)
	b.vec("select/order-table-alias", "SELECT i.id FROM items AS i ORDER BY i.embedding <=> $1 LIMIT 5", vnx...)
	b.vec("select/param-cast-vector", "SELECT id FROM items ORDER BY embedding <=> $1::vector LIMIT 5", vz...)
	b.vec("select/param-cast-vector3", "SELECT id FROM items ORDER BY embedding <-> $1::vector(3) LIMIT 5", vy...)
	b.vec("select/param-cast-CAST", "SELECT id FROM items ORDER BY embedding <=> CAST($1 AS vector(3)) LIMIT 5", vx...)
	b.vec("select/filtered-where", "SELECT * FROM items WHERE category_id = 123 ORDER BY embedding <-> $1 LIMIT 5", vy...)
	b.add("select/filtered-where-param2-text", "SELECT * FROM items WHERE category_id = $2 ORDER BY embedding <-> $1 LIMIT 5", txt(vecText(vz...)), txt("123"))
	b.add("select/filtered-where-param2-bin", "SELECT * FROM items WHERE category_id = $2 ORDER BY embedding <-> $1 LIMIT 5", vecBin(vz...), i4(123))
	b.vec("select/filtered-in", "SELECT * FROM items WHERE category_id IN (1, 2, 3) ORDER BY embedding <=> $1 LIMIT 5", vnx...)
	b.vec("select/cte-materialized", "WITH filtered AS MATERIALIZED (SELECT * FROM items WHERE category_id = 123) SELECT * FROM filtered ORDER BY embedding <-> $1 LIMIT 5", vx...)
	b.vec("select/cte-materialized-relaxed", "WITH relaxed_results AS MATERIALIZED (SELECT id, embedding <-> $1 AS distance FROM items WHERE category_id = 123 ORDER BY distance LIMIT 5) SELECT * FROM relaxed_results ORDER BY distance + 0", vy...)
	b.vec("select/cte-inner-knn", "WITH nn AS (SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10) SELECT * FROM nn", vz...)
	b.vec("select/subquery-inner-knn", "SELECT * FROM (SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10) s WHERE s.id > 3", vnx...)
	b.vec("select/offset", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5 OFFSET 10", vy...)
	b.add("select/limit-param-text", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT $2", txt(vecText(vx...)), txt("5"))
	b.add("select/limit-param-bin", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT $2", vecBin(vx...), i8(5))

	// Casts and quantizers on either side.
	b.vec("select/col-cast-halfvec-param-halfvec", "SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1::halfvec(3) LIMIT 5", vz...)
	b.add("select/col-cast-halfvec-param-halfvec-halfbin", "SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1::halfvec(3) LIMIT 5", halfBin(vz...))
	b.vec("select/col-cast-halfvec-param", "SELECT id FROM items ORDER BY embedding::halfvec(3) <=> $1 LIMIT 5", vy...)
	b.add("select/param-cast-halfvec-text", "SELECT id FROM items ORDER BY embedding <=> $1::halfvec(3) LIMIT 5", txt(vecText(vx...)))
	b.add("select/param-cast-halfvec-halfbin", "SELECT id FROM items ORDER BY embedding <=> $1::halfvec(3) LIMIT 5", halfBin(vx...))
	b.add("select/col-cast-halfvec-literal", "SELECT id FROM items ORDER BY embedding::halfvec(3) <-> '[1,2,3]' LIMIT 5")
	b.vec("select/binary-quantize", "SELECT id FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize($1) LIMIT 5", vz...)
	b.vec("select/binary-quantize-rerank", "SELECT * FROM (SELECT * FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize($1) LIMIT 20) ORDER BY embedding <=> $1 LIMIT 5", vy...)
	b.add("select/binary-quantize-literal", "SELECT id FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> binary_quantize('[1,-2,3]') LIMIT 5")
	b.vec("select/subvector", "SELECT id FROM items ORDER BY subvector(embedding, 1, 2)::vector(2) <=> subvector($1, 1, 2)::vector(2) LIMIT 5", vx...)
	b.vec("select/subvector-rerank", "SELECT * FROM (SELECT * FROM items ORDER BY subvector(embedding, 1, 2)::vector(2) <=> subvector($1, 1, 2)::vector(2) LIMIT 20) ORDER BY embedding <=> $1 LIMIT 5", vnx...)

	// Rankings that want rows from every shard.
	b.vec("select/order-desc", "SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5", vz...)
	b.vec("select/order-using-gt", "SELECT id FROM items ORDER BY embedding <-> $1 USING > LIMIT 5", vx...)
	b.vec("select/no-limit", "SELECT id FROM items ORDER BY embedding <=> $1", vy...)
	b.vec("select/threshold-where", "SELECT * FROM items WHERE embedding <-> $1 < 5", vz...)
	b.vec("select/threshold-and-order", "SELECT * FROM items WHERE embedding <=> $1 < 0.5 ORDER BY embedding <=> $1 LIMIT 5", vx...)
	b.vec("select/distance-select-only", "SELECT embedding <-> $1 AS distance FROM items", vy...)
	b.vec("select/similarity-select-only", "SELECT 1 - (embedding <=> $1) AS cosine_similarity FROM items", vnx...)
	b.vec("select/ip-select-only", "SELECT (embedding <#> $1) * -1 AS inner_product FROM items", vx...)
	b.vec("select/order-second-key", "SELECT id FROM items ORDER BY category_id, embedding <=> $1 LIMIT 5", vz...)
	b.add("select/order-other-row", "SELECT * FROM items WHERE id != 1 ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 5")
	b.add("select/avg", "SELECT AVG(embedding) FROM items")
	b.add("select/avg-group-by", "SELECT category_id, AVG(embedding) FROM items GROUP BY category_id")
	b.add("select/count", "SELECT count(*) FROM items")
	b.add("select/no-where", "SELECT * FROM items")
	b.add("select/where-nokey", "SELECT * FROM items WHERE category_id = 5")
	b.vec("select/zero-vector", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", 0, 0, 0)

	// Literals (simple protocol).
	b.add("select/literal-cosine", "SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5")
	b.add("select/literal-l2", "SELECT id FROM items ORDER BY embedding <-> '[3,1,0]' LIMIT 5")
	b.add("select/literal-ip", "SELECT id FROM items ORDER BY embedding <#> '[-2,1,0]' LIMIT 5")
	b.add("select/literal-l1", "SELECT id FROM items ORDER BY embedding <+> '[0,5,1]' LIMIT 5")
	b.add("select/literal-cast-vector", "SELECT id FROM items ORDER BY embedding <=> '[3,1,0]'::vector LIMIT 5")
	b.add("select/literal-cast-vector3", "SELECT id FROM items ORDER BY embedding <-> '[0,5,1]'::vector(3) LIMIT 5")
	b.add("select/literal-CAST", "SELECT id FROM items ORDER BY embedding <-> CAST('[-2,1,0]' AS vector(3)) LIMIT 5")
	b.add("select/literal-func-cosine", "SELECT id FROM items ORDER BY cosine_distance(embedding, '[1,2,3]') LIMIT 5")
	b.add("select/literal-func-l2", "SELECT id FROM items ORDER BY l2_distance(embedding, '[0,5,1]'::vector) LIMIT 5")
	b.add("select/literal-alias", "SELECT id, embedding <-> '[3,1,0]' AS distance FROM items ORDER BY distance LIMIT 5")
	b.add("select/literal-whitespace", "SELECT id FROM items ORDER BY embedding <=> '[ 1 , 2 , 3 ]' LIMIT 5")
	b.add("select/literal-threshold", "SELECT * FROM items WHERE embedding <-> '[3,1,2]' < 5")
	b.add("select/literal-similarity-only", "SELECT 1 - (embedding <=> '[3,1,2]') AS cosine_similarity FROM items")
	b.add("select/literal-typed-vector", "SELECT id FROM items ORDER BY embedding <=> vector '[0,5,1]' LIMIT 5")

	// Vector equality.
	b.vec("select/vec-eq", "SELECT * FROM items WHERE embedding = $1", vz...)
	b.vec("select/vec-eq-reversed", "SELECT * FROM items WHERE $1 = embedding AND category_id = 3", vy...)
	b.add("select/vec-eq-literal", "SELECT * FROM items WHERE embedding = '[3,1,0]'")
	b.add("select/id-on-vector-table", "SELECT * FROM items WHERE id = 5")
}

// vectorTables: halfvec, sparsevec, l2 and inner-product tables.
func (b *builder) vectorTables() {
	b.add("halfvec/order-text", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", txt("[1,0.1,0]"))
	b.add("halfvec/order-halfbin", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", halfBin(1, 0.1, 0))
	b.add("halfvec/order-vecbin", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", vecBin(1, 0.1, 0))
	b.add("halfvec/order-probes-span-text", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", txt("[0.3,1,0]"))
	b.add("halfvec/order-probes-span-halfbin", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", halfBin(0.3, 1, 0))
	b.add("halfvec/order-shard3-halfbin", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", halfBin(-1, -0.1, 0))
	b.add("halfvec/order-l2-halfbin", "SELECT id FROM docs ORDER BY emb <-> $1 LIMIT 5", halfBin(0, 0, 2))
	b.add("halfvec/param-cast-halfvec3-halfbin", "SELECT id FROM docs ORDER BY emb <=> $1::halfvec(3) LIMIT 5", halfBin(1, 0.1, 0))
	b.add("halfvec/literal-cast", "SELECT id FROM docs ORDER BY emb <=> '[1,0.1,0]'::halfvec LIMIT 5")
	b.add("halfvec/qualified-public", "SELECT id FROM public.docs ORDER BY emb <=> '[1,0.1,0]' LIMIT 5")
	b.add("halfvec/eq-text", "SELECT * FROM docs WHERE emb = $1", txt("[0.3,1,0]"))
	b.add("halfvec/eq-halfbin", "SELECT * FROM docs WHERE emb = $1", halfBin(0.3, 1, 0))
	b.add("halfvec/out-of-range", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", txt("[65520,0,0]"))
	b.add("halfvec/dim-halfbin", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", halfBin(1, 0))

	b.add("sparse/order-ip-text", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", txt("{3:1}/3"))
	b.add("sparse/order-ip-bin", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", sparseBin(3, []int32{2}, []float32{1}))
	b.add("sparse/order-l2-bin", "SELECT id FROM sparse_items ORDER BY sv <-> $1 LIMIT 5", sparseBin(3, []int32{1, 2}, []float32{4, 1}))
	b.add("sparse/order-cosine-literal", "SELECT id FROM sparse_items ORDER BY sv <=> '{1:2,2:1}/3'::sparsevec LIMIT 5")
	b.add("sparse/order-l1-text", "SELECT id FROM sparse_items ORDER BY sv <+> $1 LIMIT 5", txt("{1:-3}/3"))
	b.add("sparse/dim-text", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", txt("{1:1}/4"))
	b.add("sparse/index-out-of-bounds", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", txt("{4:1}/3"))
	b.add("sparse/zero-value-bin", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", sparseBin(3, []int32{0}, []float32{0}))
	b.add("sparse/insert-bin", "INSERT INTO sparse_items (id, sv) VALUES ($1, $2)", i8(1), sparseBin(3, []int32{0}, []float32{-5}))

	b.vec("l2/order-x", "SELECT id FROM places ORDER BY loc <-> $1 LIMIT 1", 9, 0, 0)
	b.vec("l2/order-y", "SELECT id FROM places ORDER BY loc <-> $1 LIMIT 1", 0, 8, 1)
	b.add("l2/order-far-literal", "SELECT id FROM places ORDER BY loc <-> '[-30,1,1]' LIMIT 1")
	b.add("l2/insert-text", "INSERT INTO places (id, loc) VALUES ($1, $2)", txt("1"), txt("[0,0,9]"))

	b.vec("ip/order-z", "SELECT id FROM bare ORDER BY v <#> $1 LIMIT 1", 0, 0, 5)
	b.vec("ip/order-nx", "SELECT id FROM bare ORDER BY v <#> $1 LIMIT 1", -1, 0, 0)
}
