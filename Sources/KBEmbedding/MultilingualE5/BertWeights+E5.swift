import KBSupport

/// Building the BERT encoder's weights from an `E5S1` file.
extension BertConfig {
    /// The encoder shape of an `E5S1` file's header.
    init(e5 header: E5ModelFile.Header) {
        self.init(
            vocabularySize: header.embeddingRows, hiddenSize: header.hiddenSize, layerCount: header.layerCount,
            headCount: header.headCount, intermediateSize: header.intermediateSize, maxPositions: header.maxPositions,
            tokenTypeCount: header.tokenTypeCount, layerNormEpsilon: header.layerNormEpsilon)
    }
}

extension BertWeights {
    /// Dequantizes every layer's 4-bit matrices to float32 once (about 85 MB for
    /// multilingual-e5-small), so the encoder runs OpenBLAS `sgemm` as for MiniLM; the token
    /// embedding table stays 4-bit and only looked-up rows are dequantized.
    ///
    /// - Throws: ``E5ModelFileError`` for a missing tensor or one of the wrong type or size.
    convenience init(e5 file: E5ModelFile) throws {
        let header = file.header
        let h = header.hiddenSize, inner = header.intermediateSize
        let arena = TensorArena()
        func floats(_ name: String, _ count: Int) throws -> Tensor { arena.copy(try file.floats(name, count: count)) }
        func matrix(_ names: [String], rows: Int, columns: Int) throws -> Tensor {
            var values = [Float](repeating: 0, count: names.count * rows * columns)  // [names · rows, columns]
            for (index, name) in names.enumerated() {
                let blocks = try file.q4Rows(name, rows: rows, columns: columns)
                blocks.withUnsafeBytes { raw in
                    values.withUnsafeMutableBufferPointer { out in
                        Q4_0Layout.dequantize(blocks: raw.baseAddress!, count: rows * columns,
                                             into: out.baseAddress! + index * rows * columns)
                    }
                }
            }
            return arena.copy(values)
        }
        func norm(_ name: String) throws -> LayerNorm {
            LayerNorm(gamma: try floats(name + ".w", h), beta: try floats(name + ".b", h))
        }
        let layers = try (0..<header.layerCount).map { index in
            let p = "l\(index)."
            return Layer(
                qkvWeight: try matrix([p + "q.w", p + "k.w", p + "v.w"], rows: h, columns: h),
                qkvBias: arena.copy(try [p + "q.b", p + "k.b", p + "v.b"].flatMap { try file.floats($0, count: h) }),
                attentionOutputWeight: try matrix([p + "ao.w"], rows: h, columns: h),
                attentionOutputBias: try floats(p + "ao.b", h),
                attentionNorm: try norm(p + "aln"),
                intermediateWeight: try matrix([p + "fi.w"], rows: inner, columns: h),
                intermediateBias: try floats(p + "fi.b", inner),
                outputWeight: try matrix([p + "fo.w"], rows: h, columns: inner),
                outputBias: try floats(p + "fo.b", h),
                outputNorm: try norm(p + "oln"))
        }
        let table = arena.copy(try file.q4Rows("emb.word", rows: header.embeddingRows, columns: h))
        self.init(
            wordEmbeddings: .q4_0(table),
            positionEmbeddings: try floats("emb.pos", header.maxPositions * h),
            tokenTypeEmbeddings: try floats("emb.type", header.tokenTypeCount * h),
            embeddingNorm: try norm("emb.ln"), layers: layers, arena: arena)
    }
}
