/**
 * Converse citation → Anthropic citation (docs/upstream-apis.md §3.2: approximate — Converse has no
 * encrypted index for web results and names documents by title only). A location kind this
 * table does not know yields null; the cited text itself still reaches the client as text.
 */

import type { Citation, CitationsDelta } from '@aws-sdk/client-bedrock-runtime';
import type { AnthropicCitation } from '../../anthropic/wire.ts';

export function converseCitationToAnthropic(citation: Citation | CitationsDelta): AnthropicCitation | null {
  const cited_text = (citation.sourceContent ?? []).map((s) => s.text ?? '').join('');
  const title = citation.title ?? null;
  const location = citation.location;
  if (!location) return null;
  if (location.documentChar) {
    return {
      type: 'char_location',
      cited_text,
      document_index: location.documentChar.documentIndex ?? 0,
      document_title: title,
      start_char_index: location.documentChar.start ?? 0,
      end_char_index: location.documentChar.end ?? 0,
    };
  }
  if (location.documentPage) {
    return {
      type: 'page_location',
      cited_text,
      document_index: location.documentPage.documentIndex ?? 0,
      document_title: title,
      start_page_number: location.documentPage.start ?? 1,
      end_page_number: location.documentPage.end ?? 1,
    };
  }
  if (location.documentChunk) {
    return {
      type: 'content_block_location',
      cited_text,
      document_index: location.documentChunk.documentIndex ?? 0,
      document_title: title,
      start_block_index: location.documentChunk.start ?? 0,
      end_block_index: location.documentChunk.end ?? 0,
    };
  }
  if (location.searchResultLocation) {
    return {
      type: 'search_result_location',
      cited_text,
      search_result_index: location.searchResultLocation.searchResultIndex ?? 0,
      source: citation.source ?? '',
      title,
      start_block_index: location.searchResultLocation.start ?? 0,
      end_block_index: location.searchResultLocation.end ?? 0,
    };
  }
  return null;
}
