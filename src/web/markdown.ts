import MarkdownIt from 'markdown-it';
import type { MemoryBudget } from '../platform/memory.js';

/**
 * Markdown bodies as HTML: raw HTML off (it is shown as text), links made
 * from bare URLs, every link `rel="nofollow ugc noopener"`, only http(s) and
 * mailto targets (markdown-it's own link check refuses `javascript:` and most
 * `data:`). Each body is rendered once and kept, charged to the memory
 * budget, keyed by its id and edit time — an edit makes a new key.
 */
export function createMarkdown(memory: MemoryBudget) {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
  md.validateLink = (url) => /^(https?:|mailto:|\/|#)/i.test(url.trim());
  const defaultLinkOpen =
    md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx]?.attrSet('rel', 'nofollow ugc noopener');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  const kept = new Map<string, { html: string; charge: { touch(): void } }>();
  return {
    /** The HTML of a body; `key` names this version of it (id and edit time). */
    render(key: string, body: string): string {
      const found = kept.get(key);
      if (found) {
        found.charge.touch();
        return found.html;
      }
      const html = md.render(body);
      const entry = { html, charge: { touch() {} } };
      kept.set(key, entry); // before the charge: a body larger than the whole budget is evicted at once
      entry.charge = memory.charge('markdown', 2 * (html.length + key.length) + 64, () => kept.delete(key));
      return html;
    },
  };
}

export type Markdown = ReturnType<typeof createMarkdown>;
