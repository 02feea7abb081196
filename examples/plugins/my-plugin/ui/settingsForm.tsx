// The user-facing settings form of my-plugin. kaipm renders a form from ui/config.schema.json;
// this optional file lets a plugin ship its own.
import React from "react";

export interface Settings {
  greeting: string;
  shout: boolean;
}

export function SettingsForm(props: { value: Settings; onChange: (value: Settings) => void }) {
  const { value, onChange } = props;
  return (
    <form>
      <label>
        Greeting
        <input value={value.greeting} maxLength={40} onChange={(e) => onChange({ ...value, greeting: e.target.value })} />
      </label>
      <label>
        <input type="checkbox" checked={value.shout} onChange={(e) => onChange({ ...value, shout: e.target.checked })} />
        Shout
      </label>
    </form>
  );
}
