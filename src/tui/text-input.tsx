import { Text } from 'ink';
import type { Theme } from './theme.js';
import { useKeys } from './use-keys.js';
import { tint } from './theme.js';

export interface TextInputProps {
  value: string;
  /** Given an update of the previous value (keys arriving together each see the one before). */
  onChange: (update: (previous: string) => string) => void;
  /** Takes the keys typed (only one input of a view has the focus). */
  focus: boolean;
  /** Characters available for the text and the cursor. */
  width: number;
  placeholder?: string;
  theme: Theme;
}

/**
 * A one-line text field: printable keys insert at the end, Backspace deletes, Ctrl-U clears,
 * Ctrl-W deletes a word. Enter, Tab, Esc and arrows are left to the view around it. When the
 * text is wider than the field, its end is shown.
 */
export function TextInput({ value, onChange, focus, width, placeholder, theme }: TextInputProps) {
  useKeys(
    (input, key) => {
      if (key.return || key.tab || key.escape || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown) return;
      if (key.backspace || key.delete) {
        onChange((previous) => Array.from(previous).slice(0, -1).join(''));
        return;
      }
      if (key.ctrl && input === 'u') {
        onChange(() => '');
        return;
      }
      if (key.ctrl && input === 'w') {
        onChange((previous) => previous.replace(/\S*\s*$/, ''));
        return;
      }
      if (key.ctrl || key.meta) return;
      // A paste arrives as one string: keep it on one line.
      // eslint-disable-next-line no-control-regex
      const text = input.replace(/[\u0000-\u001f\u007f]+/g, ' ');
      if (text !== '') onChange((previous) => previous + text);
    },
    focus,
  );
  const room = Math.max(1, width - 1);
  const chars = Array.from(value);
  const shown = chars.length > room ? `…${chars.slice(chars.length - room + 1).join('')}` : value;
  const cursor = theme.unicode ? '█' : '_';
  if (value === '' && !focus && placeholder !== undefined) return <Text dimColor>{placeholder}</Text>;
  return (
    <Text>
      {shown}
      {focus ? <Text color={tint(theme, 'cyan')}>{cursor}</Text> : null}
      {value === '' && focus && placeholder !== undefined ? <Text dimColor>{` ${placeholder}`}</Text> : null}
    </Text>
  );
}
