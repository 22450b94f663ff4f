/** A small element builder: text always goes in as text, never parsed as HTML. */
type Child = Node | string | null | undefined | false;

export function h(
  tag: string,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A summary list (dl) row. */
export const summaryRow = (key: string, value: Child | Child[]) =>
  h(
    'div',
    { class: 'nhsuk-summary-list__row' },
    h('dt', { class: 'nhsuk-summary-list__key' }, key),
    h('dd', { class: 'nhsuk-summary-list__value' }, ...[value].flat()),
  );

export const button = (text: string, attributes: Record<string, string | boolean | undefined> = {}) =>
  h('button', { class: 'nhsuk-button', 'data-module': 'nhsuk-button', type: 'button', ...attributes }, text);
