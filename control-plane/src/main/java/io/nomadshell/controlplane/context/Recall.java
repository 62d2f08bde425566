package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.jspecify.annotations.Nullable;

/**
 * A ranked full-text index (Lucene, BM25) of everything one job has seen: its task, the model's
 * words and calls, every tool output whole, and the files it wrote or read. Long texts are indexed
 * in overlapping passages so a hit is a snippet, not a 50 KB output. Lives in memory; the
 * transcript in Redis is the source it is rebuilt from.
 */
final class Recall implements AutoCloseable {
    private static final int PASSAGE_CHARS = 1_200;
    private static final int OVERLAP_CHARS = 200;
    private static final int MAX_QUERY_TERMS = 64;

    private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
    private final Analyzer analyzer = new StandardAnalyzer();
    private final IndexWriter writer;
    private @Nullable DirectoryReader reader;

    Recall() {
        try {
            writer = new IndexWriter(directory, new IndexWriterConfig(analyzer).setRAMBufferSizeMB(16));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A passage found: where it came from, and its text. */
    record Hit(String where, @Nullable String handle, String text) {}

    /**
     * Indexes {@code text} as passages.
     *
     * @param where what the text is, for the model to read ("step 3, output of exec")
     * @param handle the out-of-line output it belongs to, or null
     */
    void add(String where, @Nullable String handle, String text) {
        add(where, handle, null, text);
    }

    private void add(String where, @Nullable String handle, @Nullable String file, String text) {
        requireNonNull(where, "where");
        requireNonNull(text, "text");
        try {
            for (int start = 0; start < text.length(); ) {
                int end = passageEnd(text, start);
                var doc = new Document();
                doc.add(new TextField("text", text.substring(start, end), Field.Store.YES));
                doc.add(new StoredField("where", where + (start > 0 || end < text.length() ? " @ char " + start : "")));
                if (handle != null) {
                    doc.add(new StringField("handle", handle, Field.Store.YES));
                }
                if (file != null) {
                    doc.add(new StringField("file", file, Field.Store.NO));
                }
                writer.addDocument(doc);
                if (end >= text.length()) {
                    break;
                }
                start = Math.max(start + 1, end - OVERLAP_CHARS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Indexes a workspace file as passages, in place of what was indexed for that path before. */
    void replaceFile(String path, String text) {
        try {
            writer.deleteDocuments(new Term("file", path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        add("workspace file " + path, null, path, text);
    }

    /** The best passages for the words of {@code query}, best first; within one output if {@code handle} is set. */
    List<Hit> search(String query, @Nullable String handle, int max) {
        var terms = terms(query);
        if (terms.isEmpty()) {
            return List.of();
        }
        var words = new BooleanQuery.Builder();
        for (var term : terms) {
            words.add(new TermQuery(new Term("text", term)), BooleanClause.Occur.SHOULD);
        }
        Query q = words.build();
        if (handle != null) {
            q = new BooleanQuery.Builder()
                    .add(q, BooleanClause.Occur.MUST)
                    .add(new TermQuery(new Term("handle", handle)), BooleanClause.Occur.FILTER)
                    .build();
        }
        try {
            var searcher = new IndexSearcher(refreshedReader());
            var top = searcher.search(q, max);
            var hits = new ArrayList<Hit>(top.scoreDocs.length);
            var fields = searcher.storedFields();
            for (var scoreDoc : top.scoreDocs) {
                var doc = fields.document(scoreDoc.doc);
                hits.add(new Hit(doc.get("where"), doc.get("handle"), doc.get("text")));
            }
            return hits;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private DirectoryReader refreshedReader() throws IOException {
        if (reader == null) {
            reader = DirectoryReader.open(writer);
        } else {
            var newer = DirectoryReader.openIfChanged(reader, writer);
            if (newer != null) {
                reader.close();
                reader = newer;
            }
        }
        return reader;
    }

    /** The query's words as the index's analyzer makes them (lower case, split on punctuation). */
    private List<String> terms(String query) {
        var terms = new LinkedHashSet<String>();
        try (var stream = analyzer.tokenStream("text", query)) {
            var term = stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            while (stream.incrementToken() && terms.size() < MAX_QUERY_TERMS) {
                terms.add(term.toString());
            }
            stream.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(terms);
    }

    /** Ends a passage at a line break near its nominal length, so snippets start on whole lines. */
    private static int passageEnd(String text, int start) {
        int end = Math.min(text.length(), start + PASSAGE_CHARS);
        if (end < text.length()) {
            int newline = text.lastIndexOf('\n', end);
            if (newline > start + PASSAGE_CHARS / 2) {
                end = newline + 1;
            }
        }
        return end;
    }

    @Override
    public void close() {
        try {
            if (reader != null) {
                reader.close();
            }
            writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
