import { h, nextId } from './dom.js';
import type { Strings } from './i18n.js';
import { load, type SortOrder, update } from './storage.js';

const ORDERS: readonly SortOrder[] = ['oldest', 'newest', 'liked'];

/** The reader's sort order as last chosen in this browser (any thread), else oldest first. */
export function savedOrder(): SortOrder {
  const saved = load().sort;
  return saved !== undefined && ORDERS.includes(saved) ? saved : 'oldest';
}

/**
 * The order the server pages a thread in for a sort order. Oldest and newest first are the server's (paged by
 * cursor, O(page) per request). Most liked is the widget's: it pages oldest first and sorts the top-level
 * comments it has loaded by their likes (CommentTree.sortByLikes), replies staying under their comment. A
 * server-side "most liked" page would need every comment's like count for each page of a thread; this costs
 * the server nothing more than a plain page (docs/widget.md, "Sort order").
 */
export function serverOrder(order: SortOrder): 'oldest' | 'newest' {
  return order === 'newest' ? 'newest' : 'oldest';
}

/** The "Sort" control: a labelled select; `changed` gets the new order, which is remembered for next time. */
export function sortControl(s: Strings, current: SortOrder, changed: (o: SortOrder) => void): HTMLElement {
  const id = nextId();
  const labels: Record<SortOrder, string> = {
    oldest: s.sortOldest,
    newest: s.sortNewest,
    liked: s.sortLiked,
  };
  const select = h(
    'select',
    { id: `${id}-sort`, name: 'sort' },
    ...ORDERS.map((o) => h('option', { value: o, selected: o === current }, labels[o])),
  );
  select.addEventListener('change', () => {
    const order = select.value as SortOrder;
    update((st) => {
      st.sort = order;
    });
    changed(order);
  });
  return h('div', { class: 'quire-sort' }, h('label', { for: `${id}-sort` }, s.sortBy), select);
}
