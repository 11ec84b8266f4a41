"""The main window's areas, one controller each: a QObject that owns its area's slots and awaits
the worker jobs it asks for (`outcome = await runner.run(job)`), so every outcome is dealt with
where the job was started. `MainWindow` builds the tabs, menus and status bar and hands them
to the controllers."""
